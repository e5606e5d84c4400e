import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { CellClient } from '@leengine/kube';
import { type CellHandle, useTestbed } from '@leengine/testbed';
import type { ApiClient, Json } from '../testing/apiClient.ts';
import { allEvents, finished, httpboxVersion, startCellRegion, until } from '../testing/cellRegion.ts';
import { TEST_PASSWORD, tokenFor } from '../testing/testCore.ts';

const testbed = useTestbed();

/** Containers per cell and version, e.g. { 'life-a v1': 2 }. */
function tally(containers: Json[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of containers) out[`${c.cell} ${c.version}`] = (out[`${c.cell} ${c.version}`] ?? 0) + 1;
  return out;
}

/** [cell, or null for the platform's own; reason; the object, e.g. /^Pod\/v1-/] */
type ExpectedEvent = [string | null, string, RegExp];

/** Waits until the application's events include every expected one; returns them all. */
async function eventsShow(client: ApiClient, application: string, step: string, expected: ExpectedEvent[]) {
  return until(
    `events after ${step}`,
    async () => {
      const list = await allEvents(client, application);
      const missing = expected.filter(
        ([cell, reason, object]) =>
          !list.some((e) => e.cell === cell && e.reason === reason && object.test(e.object)),
      );
      if (missing.length > 0) throw new Error(`missing ${missing.map((m) => m.join(' ')).join('; ')}`);
      return list;
    },
    60_000,
  );
}

/** Each container was scheduled in its cell: the cell's own Kubernetes events say so. */
function scheduled(containers: Json[]): ExpectedEvent[] {
  return containers.map((c) => [c.cell, 'Scheduled', new RegExp(`^Pod/${c.name}$`)]);
}

/** Finished GET requests for container logs the cell's apiserver has counted. */
async function logRequestsDone(cell: CellHandle): Promise<number> {
  const metrics = await cell.request('/metrics');
  let n = 0;
  for (const line of metrics.body.split('\n')) {
    if (line.startsWith('apiserver_request_total{') && line.includes('subresource="log"'))
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

/** Kills the container's processes from the node (as a crash would): the kubelet restarts it. */
async function killContainer(client: CellClient, pod: string): Promise<void> {
  const status = await client.core.readNamespacedPod({ namespace: 'shop', name: pod });
  const id = status.status?.containerStatuses?.[0]?.containerID?.replace(/^\w+:\/\//, '');
  assert.ok(id, `${pod} has a container id`);
  const { stdout } = await promisify(execFile)('find', ['/sys/fs/cgroup', '-type', 'd', '-name', `*${id}*`]);
  const dirs = stdout.split('\n').filter(Boolean);
  assert.ok(dirs.length > 0, `a cgroup for container ${id}`);
  let killed = 0;
  for (const dir of dirs) {
    // A cgroup can go between find and read (ENOENT, or ENODEV while it is removed).
    let procs: string;
    try {
      procs = readFileSync(`${dir}/cgroup.procs`, 'utf8');
    } catch (error) {
      if (['ENOENT', 'ENODEV'].includes((error as NodeJS.ErrnoException).code ?? '')) continue;
      throw error;
    }
    for (const pid of procs.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
        killed++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
  }
  assert.ok(killed > 0, `killed a process of container ${id} (cgroups: ${dirs.join(', ')})`);
}

test('on two real cells: deploy v1, gray upgrade to v2, scale up and down, roll back to v1, delete; containers, events, activity and statistics follow', async () => {
  const region = await startCellRegion(testbed, ['life-a', 'life-b']);
  const { core, clients } = region;
  // The followed log, ended in any case before core closes.
  let stop: AbortController | undefined;
  try {
    const alice = await core.user('alice');
    const created = await alice.post('/api/v1/applications', { name: 'shop' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.region, 'test');
    assert.deepEqual(
      created.body.cells.map((c: Json) => c.name),
      ['life-a', 'life-b'],
      'placed on both cells of the region',
    );
    // The namespace and the headless Service appear in every cell.
    for (const client of clients.values()) {
      await until(`service in ${client.cell}`, async () => {
        const svc = await client.core.readNamespacedService({ namespace: 'shop', name: 'shop' });
        return svc.spec?.clusterIP === 'None' && svc.spec.selector?.['leengine.io/application'] === 'shop';
      });
    }

    // v1: 2 instances per cell, with a secret.
    const v1 = await alice.post(
      '/api/v1/applications/shop/versions',
      httpboxVersion(region, {
        env: [
          { name: 'MODE', value: 'one' },
          { name: 'TOKEN', value: 's3cret-value', secret: true },
        ],
      }),
    );
    assert.equal(v1.status, 202, JSON.stringify(v1.body));
    assert.equal(v1.body.version, 'v1');
    assert.match(v1.headers.get('location') ?? '', /\/operations\/\d+$/);
    const op1 = await finished(alice, 'shop', v1.body.id);
    assert.equal(op1.state, 'succeeded', JSON.stringify(op1));
    assert.deepEqual(
      op1.steps.map((s: Json) => [s.name, s.state]),
      [
        ['create', 'done'],
        ['ready', 'done'],
        ['routable', 'done'],
        ['drain', 'skipped'],
        ['retire', 'skipped'],
      ],
    );
    assert.deepEqual(op1.steps[1].progress, { done: 4, total: 4 });

    let containers = (await alice.get('/api/v1/applications/shop/containers')).body;
    assert.deepEqual(containers.unreachableCells, []);
    assert.deepEqual(tally(containers.items), { 'life-a v1': 2, 'life-b v1': 2 });
    await eventsShow(alice, 'shop', 'v1', [
      [null, 'DeployStarted', /^Version\/v1$/],
      [null, 'VersionCreated', /^Version\/v1$/],
      [null, 'VersionReady', /^Version\/v1$/],
      [null, 'VersionRoutable', /^Version\/v1$/],
      [null, 'DeploySucceeded', /^Version\/v1$/],
      ['life-a', 'ScalingReplicaSet', /^Deployment\/v1$/],
      ['life-b', 'ScalingReplicaSet', /^Deployment\/v1$/],
      ...scheduled(containers.items),
    ]);
    for (const c of containers.items) {
      assert.equal(c.ready, true);
      assert.equal(c.node, `${c.cell}-node`);
      assert.match(c.startedAt, /^\d{4}-/);
      const answer = await fetch(`http://${c.ip}:8080/`, { signal: AbortSignal.timeout(10_000) });
      assert.equal((await answer.text()).trim(), c.name, 'each pod answers on its own IP');
    }
    // Logs: the tail as text, or followed (the response stays open); role logs (Reporter and up).
    const pod = containers.items[0];
    const logsPath = `/api/v1/applications/shop/cells/${pod.cell}/containers/${pod.name}/logs`;
    const tail = await alice.get(`${logsPath}?tail=5`);
    assert.equal(tail.status, 200);
    assert.match(tail.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(
      (await alice.get('/api/v1/applications/shop/cells/life-a/containers/nobody/logs')).status,
      404,
    );
    assert.equal(
      (await alice.get(`/api/v1/applications/shop/cells/elsewhere/containers/${pod.name}/logs`)).status,
      404,
    );
    // Followed: a line the container writes after the request started comes through core
    // (httpbox logs each request it serves); when the client goes away, so does the
    // stream from the cell (its apiserver counts the log request as finished).
    const token = await tokenFor(core.anonymous, 'alice', TEST_PASSWORD);
    const podCell = region.cells.find((c) => c.name === pod.cell);
    assert.ok(podCell);
    stop = new AbortController();
    const followed = await fetch(`${core.url}${logsPath}?follow=true&tail=1`, {
      headers: { authorization: `Bearer ${token}` },
      signal: stop.signal,
    });
    assert.equal(followed.status, 200, 'the followed log answers at once and stays open');
    assert.match(followed.headers.get('content-type') ?? '', /^text\/plain/);
    let streamed = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      const reader = followed.body?.getReader();
      for (let r = await reader?.read(); r && !r.done; r = await reader?.read()) {
        streamed += decoder.decode(r.value, { stream: true });
      }
    })().catch((error: unknown) => {
      if ((error as Error).name !== 'AbortError') throw error;
    });
    const marker = `/follow-${Date.now()}`;
    assert.equal(
      (await fetch(`http://${pod.ip}:8080${marker}`, { signal: AbortSignal.timeout(10_000) })).status,
      404,
    );
    await until('the new line through the followed log', () => streamed.includes(`url:${marker}`), 30_000);
    const doneBefore = await logRequestsDone(podCell);
    stop.abort();
    await reading;
    await until(
      "the cell's log stream closed with the client",
      async () => (await logRequestsDone(podCell)) === doneBefore + 1,
      30_000,
    );
    // Exec, as kubectl exec: the arguments as given (no shell reads them unless the
    // command is one), exit code, stdout and stderr; a timeout; recorded in the activity.
    const execPath = `/api/v1/applications/shop/cells/${pod.cell}/containers/${pod.name}/exec`;
    const ran = await alice.post(execPath, {
      command: ['sh', '-c', 'echo "mode=$MODE"; echo oops >&2; exit 3'],
    });
    assert.equal(ran.status, 200, JSON.stringify(ran.body));
    assert.deepEqual(
      [ran.body.exitCode, ran.body.stdout, ran.body.stderr, ran.body.timedOut, ran.body.truncated],
      [3, 'mode=one\n', 'oops\n', false, false],
    );
    const literal = await alice.post(execPath, { command: ['echo', '$MODE; rm -rf / `id`'] });
    assert.deepEqual([literal.body.exitCode, literal.body.stdout], [0, '$MODE; rm -rf / `id`\n']);
    const slow = await alice.post(execPath, { command: ['sleep', '20'], timeoutSeconds: 1 });
    assert.deepEqual([slow.status, slow.body.timedOut, slow.body.exitCode], [200, true, null]);
    assert.ok(slow.body.durationMs >= 1000 && slow.body.durationMs < 10_000, `${slow.body.durationMs} ms`);
    const missing = await alice.post(execPath, { command: ['/no/such/program'] });
    assert.equal(missing.status, 400, JSON.stringify(missing.body));
    assert.equal(missing.body.errors[0].path, 'command');
    for (const bad of [
      { command: [] },
      { command: ['echo', 'a\u0000b'] },
      { command: ['true'], timeoutSeconds: 0 },
    ]) {
      const refused = await alice.post(execPath, bad);
      assert.equal(refused.status, 400, JSON.stringify(bad));
    }
    assert.equal(
      (
        await alice.post('/api/v1/applications/shop/cells/life-a/containers/nobody/exec', {
          command: ['true'],
        })
      ).status,
      404,
    );
    const gina = await core.user('gina');
    await alice.post('/api/v1/applications/shop/members', { username: 'gina', role: 'guest' });
    assert.equal((await gina.post(execPath, { command: ['true'] })).status, 403, 'a Guest may not exec');
    assert.equal((await gina.get(`${logsPath}?tail=5`)).status, 403, 'a Guest may not read logs');
    assert.equal((await gina.get('/api/v1/applications/shop/containers')).status, 200);

    // The secret went into a Secret, not into the Deployment, and is never shown again.
    const a = clients.get('life-a');
    const secret = await a?.core.readNamespacedSecret({ namespace: 'shop', name: 'v1-env' });
    assert.equal(Buffer.from(secret?.data?.TOKEN ?? '', 'base64').toString(), 's3cret-value');
    const dep = await a?.apps.readNamespacedDeployment({ namespace: 'shop', name: 'v1' });
    assert.ok(!JSON.stringify(dep).includes('s3cret-value'));
    const version1 = (await alice.get('/api/v1/applications/shop/versions/v1')).body;
    assert.deepEqual(version1.env, [
      { name: 'MODE', value: 'one', secret: false },
      { name: 'TOKEN', value: null, secret: true },
    ]);
    assert.deepEqual(
      version1.status.map((s: Json) => [s.cell, s.ready, s.exists]),
      [
        ['life-a', 2, true],
        ['life-b', 2, true],
      ],
    );

    // The seed's most-used flow: the form comes prefilled from v1; change the env and deploy.
    const form = (await alice.get('/api/v1/applications/shop/versions/new')).body;
    assert.equal(form.previous, 'v1');
    assert.deepEqual(form.template.image, region.image);
    assert.equal(form.template.instances, 2);
    assert.deepEqual(form.template.env, [
      { name: 'MODE', value: 'one', secret: false },
      { name: 'TOKEN', secret: true },
    ]);
    const v1Pods = containers.items.map((c: Json) => c.name);
    const v2 = await alice.post('/api/v1/applications/shop/versions', {
      ...form.template,
      env: [{ name: 'MODE', value: 'two' }, form.template.env[1]],
    });
    assert.equal(v2.status, 202, JSON.stringify(v2.body));
    assert.deepEqual(v2.body.replaces, ['v1']);
    const op2 = await finished(alice, 'shop', v2.body.id);
    assert.equal(op2.state, 'succeeded', JSON.stringify(op2));
    assert.deepEqual(
      op2.steps.map((s: Json) => s.state),
      ['done', 'done', 'done', 'done', 'done'],
    );
    // Retire finished only when v1's pods were gone, not only its Deployments.
    containers = (await alice.get('/api/v1/applications/shop/containers')).body;
    assert.deepEqual(tally(containers.items), { 'life-a v2': 2, 'life-b v2': 2 });
    assert.ok(containers.items.every((c: Json) => !v1Pods.includes(c.name)));
    for (const client of clients.values()) {
      assert.deepEqual(
        (await client.deployments('shop')).map((d) => d.version),
        ['v2'],
        `${client.cell} runs only v2`,
      );
      const kept = await client.core.readNamespacedSecret({ namespace: 'shop', name: 'v2-env' });
      assert.equal(Buffer.from(kept.data?.TOKEN ?? '', 'base64').toString(), 's3cret-value', 'secret kept');
    }
    const versions = (await alice.get('/api/v1/applications/shop/versions')).body.items;
    assert.deepEqual(
      versions.map((v: Json) => [v.name, v.state]),
      [
        ['v2', 'active'],
        ['v1', 'retired'],
      ],
    );
    await eventsShow(alice, 'shop', 'the upgrade to v2', [
      [null, 'VersionRoutable', /^Version\/v2$/],
      [null, 'VersionDrained', /^Version\/v2$/],
      [null, 'VersionRetired', /^Version\/v2$/],
      [null, 'DeploySucceeded', /^Version\/v2$/],
      ['life-a', 'Killing', /^Pod\/v1-/],
      ['life-b', 'Killing', /^Pod\/v1-/],
      ...scheduled(containers.items),
    ]);

    // Level-based: a Service or a version's Secret deleted by hand in a cell comes back
    // (the periodic resync reads them; it runs every 5 s here).
    await clients.get('life-a')?.core.deleteNamespacedService({ namespace: 'shop', name: 'shop' });
    await clients.get('life-b')?.core.deleteNamespacedSecret({ namespace: 'shop', name: 'v2-env' });
    await until(
      'the Service back in life-a',
      async () => {
        const svc = await clients
          .get('life-a')
          ?.core.readNamespacedService({ namespace: 'shop', name: 'shop' });
        return svc?.spec?.selector?.['leengine.io/application'] === 'shop';
      },
      30_000,
    );
    await until(
      'the Secret back in life-b',
      async () => {
        const back = await clients
          .get('life-b')
          ?.core.readNamespacedSecret({ namespace: 'shop', name: 'v2-env' });
        return Buffer.from(back?.data?.TOKEN ?? '', 'base64').toString() === 's3cret-value';
      },
      30_000,
    );

    // Scale up in one cell, then down in total: the instances that stop are chosen and drained first.
    const up = await alice.post('/api/v1/applications/shop/versions/v2/scale', {
      instances: { 'life-a': 3 },
    });
    assert.equal(up.status, 202, JSON.stringify(up.body));
    assert.equal((await finished(alice, 'shop', up.body.id)).state, 'succeeded');
    containers = (await alice.get('/api/v1/applications/shop/containers')).body;
    assert.deepEqual(tally(containers.items), { 'life-a v2': 3, 'life-b v2': 2 });
    await eventsShow(alice, 'shop', 'the scale-up', [
      [null, 'VersionScaled', /^Version\/v2$/],
      [null, 'ScaleSucceeded', /^Version\/v2$/],
      ...scheduled(containers.items),
    ]);
    const beforeDown = containers.items as Json[];
    assert.deepEqual((await alice.get('/api/v1/applications/shop')).body.allocation, {
      instances: 5,
      cpuMillicores: 100,
      memoryMib: 80,
    });
    const down = await alice.post('/api/v1/applications/shop/versions/v2/scale', { instances: 2 });
    const opDown = await finished(alice, 'shop', down.body.id);
    assert.equal(opDown.state, 'succeeded', JSON.stringify(opDown));
    const chosen = [...String(opDown.steps[0].message).matchAll(/(shop|v2)-[a-z0-9-]+/g)].map((m) => m[0]);
    assert.equal(chosen.length, 3, `three instances chosen: ${opDown.steps[0].message}`);
    containers = (await alice.get('/api/v1/applications/shop/containers')).body;
    assert.deepEqual(tally(containers.items), { 'life-a v2': 1, 'life-b v2': 1 });
    assert.ok(
      containers.items.every((c: Json) => !chosen.includes(c.name)),
      'exactly the chosen instances stopped',
    );
    const afterDown = await eventsShow(alice, 'shop', 'the scale-down', [
      [null, 'InstancesChosen', /^Version\/v2$/],
      ...beforeDown
        .filter((c) => chosen.includes(c.name))
        .map((c): ExpectedEvent => [c.cell, 'Killing', new RegExp(`^Pod/${c.name}$`)]),
    ]);
    assert.equal(
      afterDown.filter((e) => e.reason === 'ScaleSucceeded').length,
      2,
      'one ScaleSucceeded per scaling',
    );

    // Roll back to v1: it runs again (2 per cell, as it had), v2 goes.
    const back = await alice.post('/api/v1/applications/shop/rollback', { version: 'v1' });
    assert.equal(back.status, 202, JSON.stringify(back.body));
    assert.equal(back.body.kind, 'rollback');
    assert.equal((await finished(alice, 'shop', back.body.id)).state, 'succeeded');
    containers = (await alice.get('/api/v1/applications/shop/containers')).body;
    assert.deepEqual(tally(containers.items), { 'life-a v1': 2, 'life-b v1': 2 });
    assert.ok(containers.items.every((c: Json) => c.ready && c.ip));
    await eventsShow(alice, 'shop', 'the rollback', [
      [null, 'RollbackSucceeded', /^Version\/v1$/],
      ...scheduled(containers.items),
    ]);

    // A container that dies is restarted by its kubelet: the list counts it.
    assert.ok(containers.items.every((c: Json) => c.restarts === 0));
    const crashing = containers.items[0] as Json;
    const crashClient = clients.get(crashing.cell);
    assert.ok(crashClient);
    await killContainer(crashClient, crashing.name);
    await until(`${crashing.name} restarted once and ready`, async () => {
      const list = (await alice.get('/api/v1/applications/shop/containers')).body.items as Json[];
      const again = list.find((c) => c.name === crashing.name);
      return again?.restarts === 1 && again.ready;
    });

    // Events: the platform's steps and the cells' own Kubernetes events, newest first.
    const events: Json[] = await until('kubernetes events from both cells', async () => {
      const list = await allEvents(alice, 'shop');
      const cells = new Set(list.filter((e) => e.cell !== null).map((e) => e.cell));
      return cells.has('life-a') && cells.has('life-b') ? list : undefined;
    });
    const reasons = new Set(events.map((e) => e.reason));
    for (const reason of [
      'DeployStarted',
      'VersionReady',
      'VersionDrained',
      'VersionRetired',
      'ScaleSucceeded',
      'RollbackSucceeded',
      'Scheduled',
      'ScalingReplicaSet',
    ]) {
      assert.ok(reasons.has(reason), `event ${reason} in ${[...reasons].join(', ')}`);
    }

    // Activity and statistics count deploys, scalings and the rollback.
    const activity = (await alice.get('/api/v1/applications/shop/activity?limit=100')).body.items as Json[];
    assert.deepEqual(
      activity.map((x) => x.action).filter((x) => !['create', 'add-member', 'exec'].includes(x)),
      ['rollback', 'scale', 'scale', 'deploy', 'deploy'],
    );
    const execs = activity.filter((x) => x.action === 'exec');
    assert.ok(
      execs.some((x) => x.result === 'succeeded' && x.params.command.join(' ') === 'sleep 20'),
      `the commands run are recorded: ${JSON.stringify(execs.map((x) => [x.result, x.params]))}`,
    );
    assert.ok(
      execs.some((x) => x.result === 'failed' && x.actor === 'gina'),
      "gina's refused exec is recorded",
    );
    const deployRecord = activity.find((x) => x.action === 'deploy');
    assert.ok(!JSON.stringify(deployRecord).includes('s3cret'), 'no secret in the activity record');
    const today = new Date(Date.parse('2025-03-01')).toISOString().slice(0, 10);
    const stats = (await core.admin.get(`/api/v1/statistics/operations?from=${today}&to=${today}`)).body;
    assert.equal(stats.days[0].deploys, 3, 'two deploys and the rollback');
    assert.equal(stats.days[0].scalings, 2);

    // Deleting the application removes its namespace from every cell.
    assert.equal((await alice.delete('/api/v1/applications/shop')).status, 204);
    for (const client of clients.values()) {
      await until(
        `namespace gone from ${client.cell}`,
        async () => (await client.namespace('shop')) === 'absent',
      );
    }
  } finally {
    stop?.abort();
    await core.close();
  }
});
