-- Which Kubernetes cluster a cell is: the uid of its kube-system namespace, read when the
-- cell is added (the identity Kubernetes tools use for a cluster). One cluster is one
-- cell: registered twice under two names, each cell's sweep would delete the namespaces
-- of the applications placed on the other.
alter table cells add column cluster_id text;
create unique index cells_cluster_id on cells (cluster_id) where cluster_id is not null;
