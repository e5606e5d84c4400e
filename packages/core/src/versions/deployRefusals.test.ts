import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useTestbed } from '@leengine/testbed';
import type { Json } from '../testing/apiClient.ts';
import { finished, httpboxVersion, startCellRegion, until } from '../testing/cellRegion.ts';

const testbed = useTestbed();

test('forbidden role, exceeded quota (deploy, scale, rollback), unknown tag, invalid resources or env names: a clear 4xx and nothing in any cell', async () => {
  const region = await startCellRegion(testbed, ['deny-a', 'deny-b']);
  const { core, clients } = region;
  try {
    const alice = await core.user('alice');
    const bob = await core.user('bob');
    const carol = await core.user('carol');
    assert.equal((await alice.post('/api/v1/applications', { name: 'pay' })).status, 201);
    await alice.post('/api/v1/applications/pay/members', { username: 'bob', role: 'reporter' });
    for (const client of clients.values()) {
      await until(`namespace in ${client.cell}`, async () => (await client.namespace('pay')) === 'active');
    }
    const good = httpboxVersion(region);
    const refusals: [string, typeof alice, Json, number, RegExp | string][] = [
      ['a Reporter', bob, good, 403, /role reporter may not deploy/],
      ['a non-member', carol, good, 404, /not found/],
      [
        'an unknown tag',
        alice,
        { ...good, image: { ...region.image, tag: 'no-such-tag' } },
        400,
        'image.tag',
      ],
      [
        'an unknown repository',
        alice,
        { ...good, image: { repository: 'leengine/nothing', tag: '1' } },
        400,
        'image.tag',
      ],
      [
        'a CPU limit below its request',
        alice,
        { ...good, cpu: { requestMillicores: 500, limitMillicores: 100 } },
        400,
        'cpu.limitMillicores',
      ],
      [
        'too little memory',
        alice,
        { ...good, memory: { requestMib: 1, limitMib: 64 } },
        400,
        'memory.requestMib',
      ],
      [
        'an env name starting with a digit',
        alice,
        { ...good, env: [{ name: '1BAD', value: 'x' }] },
        400,
        'env.0.name',
      ],
      [
        'an env name with a dash',
        alice,
        { ...good, env: [{ name: 'MY-VAR', value: 'x' }] },
        400,
        'env.0.name',
      ],
      [
        'twice the same env name',
        alice,
        {
          ...good,
          env: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
        400,
        'env',
      ],
      [
        'a new secret without a value',
        alice,
        { ...good, env: [{ name: 'TOKEN', secret: true }] },
        400,
        'env.0.value',
      ],
      [
        'a cell the application is not on',
        alice,
        { ...good, instances: { elsewhere: 1 } },
        400,
        'instances.elsewhere',
      ],
      [
        'a bad health check path',
        alice,
        { ...good, healthCheck: { path: 'healthz' } },
        400,
        'healthCheck.path',
      ],
    ];
    for (const [what, client, body, status, expected] of refusals) {
      const response = await client.post('/api/v1/applications/pay/versions', body);
      assert.equal(response.status, status, `${what}: ${JSON.stringify(response.body)}`);
      assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      if (typeof expected === 'string') {
        assert.ok(
          response.body.errors?.some((e: Json) => e.path === expected),
          `${what}: a field error at ${expected}: ${JSON.stringify(response.body)}`,
        );
      } else assert.match(response.body.detail, expected, what);
    }

    // Quota: alice may hold 3 instances; 2 per cell is 4.
    assert.equal((await core.admin.put('/api/v1/users/alice/quota', { instances: 3 })).status, 200);
    const over = await alice.post('/api/v1/applications/pay/versions', good);
    assert.equal(over.status, 422, JSON.stringify(over.body));
    assert.match(over.body.detail, /instances 0 \+ 4 > 3/);

    // Nothing was created anywhere: no version, no operation, no workload, no quota used.
    assert.deepEqual((await alice.get('/api/v1/applications/pay/versions')).body.items, []);
    assert.deepEqual((await alice.get('/api/v1/applications/pay/operations')).body.items, []);
    assert.deepEqual((await alice.get('/api/v1/applications/pay')).body.allocation, {
      instances: 0,
      cpuMillicores: 0,
      memoryMib: 0,
    });
    for (const client of clients.values()) {
      assert.deepEqual(await client.deployments('pay'), [], `no Deployment in ${client.cell}`);
      const secrets = await client.core.listNamespacedSecret({ namespace: 'pay' });
      assert.deepEqual(
        secrets.items.filter((s) => s.metadata?.name?.endsWith('-env')),
        [],
      );
    }
    // Refusals that matter are in the activity record.
    const activity = (await alice.get('/api/v1/applications/pay/activity')).body.items as Json[];
    assert.deepEqual(
      activity.filter((a) => a.action === 'deploy').map((a) => [a.actor, a.result, a.error]),
      [
        ['alice', 'failed', 'quota-exceeded'],
        ['bob', 'failed', 'not-allowed'],
      ],
    );
    // Scaling and rolling back to what does not exist are 404s; a Reporter may not scale.
    assert.equal(
      (await alice.post('/api/v1/applications/pay/versions/v9/scale', { instances: 2 })).status,
      404,
    );
    assert.equal((await alice.post('/api/v1/applications/pay/rollback', { version: 'v9' })).status, 404);
    assert.equal(
      (await bob.post('/api/v1/applications/pay/versions/v9/scale', { instances: 2 })).status,
      403,
    );

    // Within the quota it goes through.
    const fits = await alice.post('/api/v1/applications/pay/versions', { ...good, instances: 1 });
    assert.equal(fits.status, 202, JSON.stringify(fits.body));
    assert.equal((await finished(alice, 'pay', fits.body.id)).state, 'succeeded');

    /** What runs in the cells, and the versions and operations in the database. */
    const everything = async () => {
      const cells: string[] = [];
      for (const client of clients.values()) {
        for (const d of await client.deployments('pay'))
          cells.push(`${client.cell} ${d.version} ${d.desired}`);
      }
      const versions = (await alice.get('/api/v1/applications/pay/versions')).body.items as Json[];
      return {
        cells: cells.sort(),
        versions: versions.map((v) => `${v.name} ${v.state} ${JSON.stringify(v.instances)}`),
        operations: (await alice.get('/api/v1/applications/pay/operations')).body.items.length,
        allocation: (await alice.get('/api/v1/applications/pay')).body.allocation.instances,
      };
    };

    // Scaling past the quota (2 running + 2 more > 3): 422, nothing changes in any cell.
    const scaled = await everything();
    assert.deepEqual(scaled.cells, ['deny-a v1 1', 'deny-b v1 1']);
    const tooMany = await alice.post('/api/v1/applications/pay/versions/v1/scale', { instances: 4 });
    assert.equal(tooMany.status, 422, JSON.stringify(tooMany.body));
    assert.match(tooMany.body.detail, /instances 2 \+ 2 > 3/);
    assert.deepEqual(await everything(), scaled);

    // Rolling back needs room for both versions during the upgrade: 2 + 2 > 3 is refused too.
    assert.equal((await core.admin.put('/api/v1/users/alice/quota', { instances: 4 })).status, 200);
    const v2 = await alice.post('/api/v1/applications/pay/versions', { ...good, instances: 1 });
    assert.equal(v2.status, 202, JSON.stringify(v2.body));
    assert.equal((await finished(alice, 'pay', v2.body.id)).state, 'succeeded');
    assert.equal((await core.admin.put('/api/v1/users/alice/quota', { instances: 3 })).status, 200);
    const upgraded = await everything();
    assert.deepEqual(upgraded.cells, ['deny-a v2 1', 'deny-b v2 1']);
    const back = await alice.post('/api/v1/applications/pay/rollback', { version: 'v1' });
    assert.equal(back.status, 422, JSON.stringify(back.body));
    assert.match(back.body.detail, /instances 2 \+ 2 > 3/);
    assert.deepEqual(await everything(), upgraded);
    const refusedOps = (await alice.get('/api/v1/applications/pay/activity')).body.items as Json[];
    assert.deepEqual(
      refusedOps
        .filter((a) => a.error === 'quota-exceeded' && a.action !== 'deploy')
        .map((a) => [a.action, a.result, a.error]),
      [
        ['rollback', 'failed', 'quota-exceeded'],
        ['scale', 'failed', 'quota-exceeded'],
      ],
    );
  } finally {
    await core.close();
  }
});
