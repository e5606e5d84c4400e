import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { useTestbed } from '@leengine/testbed';
import { SecretBox } from '../crypto/secretBox.ts';
import type { Json } from '../testing/apiClient.ts';
import { finished, httpboxVersion, startCellRegion, until } from '../testing/cellRegion.ts';
import { startTestCore, TEST_PASSWORD, tokenFor } from '../testing/testCore.ts';

const testbed = useTestbed();
const dataDir = mkdtempSync(join(tmpdir(), 'leengine-convergence-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function versionsIn(
  region: {
    clients: Map<string, { cell: string; deployments(app: string): Promise<{ version: string }[]> }>;
  },
  app: string,
) {
  const out: string[] = [];
  for (const client of region.clients.values())
    out.push(...(await client.deployments(app)).map((d) => `${client.cell} ${d.version}`));
  return out.sort();
}

test('a cell whose apiserver stops during a deploy catches up when it returns; a core restarted mid-operation finishes it', async () => {
  const secretKey = SecretBox.generateKey();
  const region = await startCellRegion(testbed, ['conv-a', 'conv-b'], { dataDir, secretKey });
  let core = region.core;
  try {
    let alice = await core.user('alice');
    assert.equal((await alice.post('/api/v1/applications', { name: 'api' })).status, 201);
    const v1 = await alice.post('/api/v1/applications/api/versions', httpboxVersion(region));
    assert.equal((await finished(alice, 'api', v1.body.id)).state, 'succeeded');

    // A deploy starts; as soon as it has created v2 in conv-a, conv-b's apiserver goes away.
    const v2 = await alice.post('/api/v1/applications/api/versions', httpboxVersion(region, { env: [] }));
    assert.equal(v2.status, 202, JSON.stringify(v2.body));
    const [, cellB] = region.cells;
    await until('v2 created in conv-a', async () =>
      (await region.clients.get('conv-a')?.deployments('api'))?.some((d) => d.version === 'v2'),
    );
    await cellB?.stopApiserver();
    await until('conv-b unreachable', async () => {
      const cell = (await core.admin.get('/api/v1/regions/test/cells/conv-b')).body;
      return cell.health.state === 'unreachable' ? cell : undefined;
    });
    // conv-a converges, the operation waits for conv-b (whichever step it was in) and does not give up.
    await until('v2 ready in conv-a', async () => {
      const list = (await alice.get('/api/v1/applications/api/containers')).body.items as Json[];
      return list.filter((c) => c.cell === 'conv-a' && c.version === 'v2' && c.ready).length === 2;
    });
    await sleep(3000);
    const still = (await alice.get(`/api/v1/applications/api/operations/${v2.body.id}`)).body;
    assert.equal(still.state, 'running', 'it waits for the cell, it does not give up');
    const waitingStep = still.steps.find((s: Json) => s.state === 'running');
    assert.ok(
      ['create', 'ready'].includes(waitingStep?.name) && /conv-b/.test(waitingStep.message),
      `waiting for conv-b: ${JSON.stringify(still.steps)}`,
    );
    const containers = (await alice.get('/api/v1/applications/api/containers')).body;
    assert.deepEqual(
      containers.unreachableCells.map((c: Json) => c.cell),
      ['conv-b'],
    );

    // It comes back: the reconciler converges and the upgrade completes in both cells.
    await cellB?.startApiserver();
    const op2 = await finished(alice, 'api', v2.body.id);
    assert.equal(op2.state, 'succeeded', JSON.stringify(op2));
    assert.deepEqual(await versionsIn(region, 'api'), ['conv-a v2', 'conv-b v2']);
    await until('conv-b healthy', async () => {
      const cell = (await core.admin.get('/api/v1/regions/test/cells/conv-b')).body;
      return cell.health.state === 'healthy';
    });

    // A frozen apiserver (it takes connections and never answers): once the health check
    // finds it unreachable, the containers list names it at once instead of waiting on it.
    // (The testbed keeps the restarted apiserver in its place in `processes`.)
    const apiserver = cellB?.processes.find((p) => p.component.endsWith('/kube-apiserver'));
    assert.ok(apiserver, 'the cell runs a kube-apiserver');
    process.kill(apiserver.pid, 'SIGSTOP');
    try {
      await until('conv-b unreachable while frozen', async () => {
        const cell = (await core.admin.get('/api/v1/regions/test/cells/conv-b')).body;
        return cell.health.state === 'unreachable' ? cell : undefined;
      });
      const asked = Date.now();
      const listed = (await alice.get('/api/v1/applications/api/containers')).body;
      assert.ok(Date.now() - asked < 2000, `answered in ${Date.now() - asked} ms`);
      assert.deepEqual(
        listed.unreachableCells.map((c: Json) => c.cell),
        ['conv-b'],
      );
      assert.match(listed.unreachableCells[0].error, /^unreachable: /);
      assert.ok(
        listed.items.some((c: Json) => c.cell === 'conv-a'),
        "conv-a's containers are listed",
      );
    } finally {
      process.kill(apiserver.pid, 'SIGCONT');
    }
    await until('conv-b healthy again', async () => {
      const cell = (await core.admin.get('/api/v1/regions/test/cells/conv-b')).body;
      return cell.health.state === 'healthy';
    });

    // A core that stops in the middle of an upgrade: the next one picks it up from the database.
    const v3 = await alice.post('/api/v1/applications/api/versions', httpboxVersion(region, { env: [] }));
    assert.equal(v3.status, 202);
    await core.close();
    core = await startTestCore({
      dataDir,
      secretKey,
      registryUrl: region.registry.url,
      runtime: { resyncMs: 5000, healthIntervalMs: 1000 },
    });
    alice = core.anonymous.as(await tokenFor(core.anonymous, 'alice', TEST_PASSWORD));
    const op3 = await finished(alice, 'api', v3.body.id);
    assert.equal(op3.state, 'succeeded', JSON.stringify(op3));
    assert.deepEqual(await versionsIn(region, 'api'), ['conv-a v3', 'conv-b v3']);
    const ready = (await alice.get('/api/v1/applications/api/containers')).body.items as Json[];
    assert.equal(ready.filter((c) => c.version === 'v3' && c.ready).length, 4);
  } finally {
    await core.close();
  }
});
