import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useTestbed } from '@leengine/testbed';
import type { ApiClient, Json } from '../testing/apiClient.ts';
import {
  allEvents,
  type CellRegion,
  finished,
  httpboxVersion,
  startCellRegion,
  until,
} from '../testing/cellRegion.ts';
import { TEST_PASSWORD, tokenFor } from '../testing/testCore.ts';
import type { TrafficGate } from '../traffic/trafficGate.ts';

const testbed = useTestbed();

/**
 * The load balancer as core's TrafficGate: it routes at once, but never confirms a drain
 * of the application `stuck` (like an SLB agent of its group that never reports), and
 * remembers what was released.
 */
const released: string[] = [];
const gate: TrafficGate = {
  routable: async () => true,
  drain: async (application) => application !== 'stuck',
  release: async (application, target) => {
    released.push(`${application}: ${target.versions.join(',')}`);
  },
};

async function serving(client: ApiClient, app: string): Promise<Json[]> {
  const containers = (await client.get(`/api/v1/applications/${app}/containers`)).body.items as Json[];
  for (const c of containers.filter((x) => x.ready)) {
    assert.equal((await (await fetch(`http://${c.ip}:8080/`)).text()).trim(), c.name);
  }
  return containers;
}

async function deployments(region: CellRegion, app: string): Promise<string[]> {
  const out: string[] = [];
  for (const client of region.clients.values())
    out.push(...(await client.deployments(app)).map((d) => `${client.cell} ${d.version}`));
  return out.sort();
}

test('a version whose health check never passes: the upgrade times out, rolls back, and v1 keeps serving; an abort does the same at once; a drain never confirmed fails at the deadline with both versions serving', async () => {
  const region = await startCellRegion(testbed, ['fail-a', 'fail-b'], { gate });
  let closed = false;
  const { core } = region;
  try {
    const alice = await core.user('alice');
    const bob = await core.user('bob');
    assert.equal((await alice.post('/api/v1/applications', { name: 'web' })).status, 201);
    await alice.post('/api/v1/applications/web/members', { username: 'bob', role: 'developer' });
    const v1 = await alice.post('/api/v1/applications/web/versions', httpboxVersion(region));
    assert.equal((await finished(alice, 'web', v1.body.id)).state, 'succeeded');
    const before = (await serving(alice, 'web')).map((c) => c.name).sort();
    assert.equal(before.length, 4);

    const broken = httpboxVersion(region, {
      healthCheck: { path: '/nope', periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 },
      timeoutSeconds: 30,
    });
    const v2 = await alice.post('/api/v1/applications/web/versions', broken);
    assert.equal(v2.status, 202, JSON.stringify(v2.body));
    // Its instances run but never become Ready; v1 serves all along.
    await until('v2 running, not ready', async () => {
      const list = (await serving(alice, 'web')).filter((c) => c.version === 'v2');
      return list.length === 4 && list.every((c) => c.phase === 'Running' && !c.ready);
    });
    const waiting = (await alice.get(`/api/v1/applications/web/operations/${v2.body.id}`)).body;
    assert.equal(waiting.state, 'running');
    assert.equal(waiting.steps[1].state, 'running');
    assert.deepEqual(waiting.steps[1].progress, { done: 0, total: 4 });
    assert.match(waiting.steps[1].message, /0\/4 instances of v2 Ready/);

    // One operation at a time.
    const another = await alice.post('/api/v1/applications/web/versions', httpboxVersion(region));
    assert.equal(another.status, 409);
    assert.match(another.body.detail, /still running/);

    // The deadline passes (core's clock): the upgrade fails and removes v2.
    core.clock.advance(31_000);
    const failed = await finished(alice, 'web', v2.body.id);
    assert.equal(failed.state, 'failed', JSON.stringify(failed));
    assert.match(failed.error, /timed out: 0\/4 instances of v2 Ready/);
    assert.deepEqual(
      failed.steps.map((s: Json) => [s.name, s.state]),
      [
        ['create', 'done'],
        ['ready', 'failed'],
        ['routable', 'skipped'],
        ['drain', 'skipped'],
        ['retire', 'skipped'],
        ['rollback', 'done'],
      ],
    );
    assert.deepEqual(
      (await serving(alice, 'web')).map((c) => c.name).sort(),
      before,
      'the same v1 instances',
    );
    assert.deepEqual(await deployments(region, 'web'), ['fail-a v1', 'fail-b v1']);
    const versions = (await alice.get('/api/v1/applications/web/versions')).body.items;
    assert.deepEqual(
      versions.map((v: Json) => [v.name, v.state]),
      [
        ['v2', 'retired'],
        ['v1', 'active'],
      ],
    );
    assert.equal(
      (await alice.get('/api/v1/applications/web')).body.allocation.instances,
      4,
      'v2 released its quota',
    );

    // Abort: a Developer may not; the deploying role may, before the old version is drained.
    const v3 = await alice.post('/api/v1/applications/web/versions', broken);
    assert.equal(v3.status, 202);
    await until('v3 created', async () => {
      const op = (await alice.get(`/api/v1/applications/web/operations/${v3.body.id}`)).body;
      return op.steps[0].state === 'done';
    });
    assert.equal((await bob.post(`/api/v1/applications/web/operations/${v3.body.id}/abort`)).status, 403);
    const aborting = await alice.post(`/api/v1/applications/web/operations/${v3.body.id}/abort`);
    assert.equal(aborting.status, 200, JSON.stringify(aborting.body));
    assert.ok(['rolling-back', 'aborted'].includes(aborting.body.state));
    const aborted = await finished(alice, 'web', v3.body.id);
    assert.equal(aborted.state, 'aborted');
    assert.equal(aborted.error, 'aborted by alice');
    assert.equal((await alice.post(`/api/v1/applications/web/operations/${v3.body.id}/abort`)).status, 409);
    assert.deepEqual((await serving(alice, 'web')).map((c) => c.name).sort(), before);
    assert.deepEqual(await deployments(region, 'web'), ['fail-a v1', 'fail-b v1']);

    const events = await allEvents(alice, 'web');
    const platform = events.filter((e) => e.cell === null).map((e) => e.reason);
    for (const reason of [
      'UpgradeStepFailed',
      'DeployFailed',
      'VersionRemoved',
      'OperationAborted',
      'DeployAborted',
    ]) {
      assert.ok(platform.includes(reason), `${reason} in ${platform.join(', ')}`);
    }
    const ops = (await alice.get('/api/v1/applications/web/operations')).body.items;
    assert.deepEqual(
      ops.map((o: Json) => [o.version, o.state]),
      [
        ['v3', 'aborted'],
        ['v2', 'failed'],
        ['v1', 'succeeded'],
      ],
    );

    // The load balancer never confirms the drain: no abort there, and at the deadline the
    // upgrade fails at drain without a rollback; the drain is released, v1 and v2 both serve.
    assert.equal((await alice.post('/api/v1/applications', { name: 'stuck' })).status, 201);
    const s1 = await alice.post(
      '/api/v1/applications/stuck/versions',
      httpboxVersion(region, { instances: 1 }),
    );
    assert.equal((await finished(alice, 'stuck', s1.body.id)).state, 'succeeded');
    const s2 = await alice.post(
      '/api/v1/applications/stuck/versions',
      httpboxVersion(region, { instances: 1, env: [], timeoutSeconds: 60 }),
    );
    assert.equal(s2.status, 202, JSON.stringify(s2.body));
    const draining: Json = await until('v2 routable, v1 draining', async () => {
      const op = (await alice.get(`/api/v1/applications/stuck/operations/${s2.body.id}`)).body;
      return op.steps[3].state === 'running' ? op : undefined;
    });
    assert.match(draining.steps[3].message, /waiting for the load balancer to confirm v1 is out/);
    const noAbort = await alice.post(`/api/v1/applications/stuck/operations/${s2.body.id}/abort`);
    assert.equal(noAbort.status, 409, JSON.stringify(noAbort.body));
    core.clock.advance(61_000);
    const undrained = await finished(alice, 'stuck', s2.body.id);
    assert.equal(undrained.state, 'failed', JSON.stringify(undrained));
    assert.equal(
      undrained.error,
      'the load balancer did not confirm v1 out by the deadline: v2 and v1 both keep running and serving; deploy again or roll back',
    );
    assert.deepEqual(
      undrained.steps.map((s: Json) => [s.name, s.state]),
      [
        ['create', 'done'],
        ['ready', 'done'],
        ['routable', 'done'],
        ['drain', 'failed'],
        ['retire', 'skipped'],
      ],
    );
    assert.deepEqual(
      released.filter((r) => r.startsWith('stuck')),
      ['stuck: v1'],
    );
    assert.deepEqual(
      (await alice.get('/api/v1/applications/stuck/versions')).body.items.map((v: Json) => [v.name, v.state]),
      [
        ['v2', 'active'],
        ['v1', 'active'],
      ],
    );
    assert.deepEqual(await deployments(region, 'stuck'), [
      'fail-a v1',
      'fail-a v2',
      'fail-b v1',
      'fail-b v2',
    ]);
    const both = await serving(alice, 'stuck');
    assert.deepEqual(both.map((c) => `${c.version} ${c.ready}`).sort(), [
      'v1 true',
      'v1 true',
      'v2 true',
      'v2 true',
    ]);

    // Core stops while a user follows a log: it ends the followed log instead of waiting
    // for the container to end it.
    const pod = both[0] as Json;
    const token = await tokenFor(core.anonymous, 'alice', TEST_PASSWORD);
    const following = await fetch(
      `${core.url}/api/v1/applications/stuck/cells/${pod.cell}/containers/${pod.name}/logs?follow=true`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    assert.equal(following.status, 200);
    const rest = following.text().catch((error: unknown) => `ended with ${String(error)}`);
    closed = true;
    const closing = core.close().then(() => 'closed');
    const late = Symbol('late');
    const within = (ms: number) => new Promise<symbol>((r) => setTimeout(() => r(late), ms));
    assert.equal(await Promise.race([closing, within(20_000)]), 'closed', 'core closed with a log followed');
    assert.notEqual(await Promise.race([rest, within(5000)]), late, 'the followed log ended');
  } finally {
    if (!closed) await core.close();
  }
});
