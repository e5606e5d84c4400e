-- Fixed container addresses: how many an application asked for in each cell (null: none).
-- The pools themselves live in every cell's IPAM (etcd, docs/ipam.md); with this the cell
-- reconciler also makes the pool in a cell the application is placed in later.
alter table applications add column fixed_addresses integer check (fixed_addresses between 1 and 1024);
