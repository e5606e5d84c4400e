import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useTestbed } from './nodeTest.ts';

const testbed = useTestbed();

test('PostgreSQL runs SQL through the pg client', async () => {
  const postgres = await testbed.postgres();
  const client = postgres.client();
  await client.connect();
  try {
    await client.query('create table apps (name text primary key, replicas int not null)');
    await client.query('insert into apps values ($1, $2), ($3, $4)', ['web', 2, 'rpc', 3]);
    const { rows } = await client.query('select name, replicas from apps order by name');
    assert.deepEqual(rows, [
      { name: 'rpc', replicas: 3 },
      { name: 'web', replicas: 2 },
    ]);
    const { rows: version } = await client.query('show server_version');
    assert.match(String(version[0]?.server_version), /^\d+\.\d+/);
  } finally {
    await client.end();
  }
});

test('PostgreSQL gives each test its own empty database', async () => {
  const postgres = await testbed.postgres();
  const url = await postgres.createDatabase('isolated_one');
  assert.equal(url, `postgres://postgres@127.0.0.1:${postgres.port}/isolated_one`);
  const client = postgres.client('isolated_one');
  await client.connect();
  try {
    const { rows } = await client.query(
      "select count(*)::int as n from information_schema.tables where table_schema = 'public'",
    );
    assert.equal(rows[0]?.n, 0);
  } finally {
    await client.end();
  }
  await assert.rejects(postgres.createDatabase('bad"name'), /invalid database name/);
});
