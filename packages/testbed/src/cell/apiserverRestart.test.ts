import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useTestbed } from '../nodeTest.ts';

const testbed = useTestbed();

test("a cell's apiserver stops and starts again on the same address, with its objects intact", async () => {
  const etcd = await testbed.etcd();
  const cell = await testbed.cell({ name: 'restart', etcd, nodes: 0 });
  const created = await cell.request('/api/v1/namespaces', {
    method: 'POST',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kept' } },
  });
  assert.equal(created.status, 201);
  const first = cell.process;

  await cell.stopApiserver();
  assert.ok(first.exitStatus, 'the apiserver process has exited');
  await assert.rejects(cell.request('/readyz'), 'nothing answers while it is stopped');
  assert.equal(cell.processes.slice(1).filter((p) => p.exitStatus).length, 0, 'the rest keeps running');

  await cell.startApiserver();
  assert.notEqual(cell.process.pid, first.pid, 'a new process');
  assert.equal(cell.processes[0], cell.process);
  assert.equal((await cell.request('/readyz')).status, 200);
  assert.equal((await cell.request('/api/v1/namespaces/kept')).status, 200, 'its objects are in etcd');
  await cell.startApiserver(); // already running: nothing to do

  await cell.stop();
  assert.ok(cell.process.exitStatus, 'stop() ends the restarted apiserver');
});
