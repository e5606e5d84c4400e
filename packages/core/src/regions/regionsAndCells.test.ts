import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { useTestbed } from '@leengine/testbed';
import type { Json } from '../testing/apiClient.ts';
import { finished, httpboxVersion, startCellRegion, until } from '../testing/cellRegion.ts';

const testbed = useTestbed();

test('regions and cells: admin API with sealed kubeconfigs, health and capacity, cordon keeps new applications off, evacuate moves them (to a free cell, or with none to the other cells)', async () => {
  const region = await startCellRegion(testbed, ['ev-a', 'ev-b', 'ev-c']);
  const { core, clients } = region;
  try {
    const alice = await core.user('alice');
    const admin = core.admin;

    // Everyone reads regions (to pick one); only admins change them or read capacity.
    const regions = await until('all cells healthy', async () => {
      const list = (await alice.get('/api/v1/regions')).body.items as Json[];
      return list[0]?.cells.every((c: Json) => c.health.state === 'healthy') ? list : undefined;
    });
    assert.deepEqual(
      regions.map((r) => [r.name, r.cells.map((c: Json) => c.name)]),
      [['test', ['ev-a', 'ev-b', 'ev-c']]],
    );
    assert.match(regions[0].cells[0].health.message, /^v1\.31/);
    assert.equal((await alice.post('/api/v1/regions', { name: 'mine' })).status, 403);
    assert.equal((await alice.get('/api/v1/regions/test/cells/ev-a/capacity')).status, 403);
    assert.equal((await alice.post('/api/v1/regions/test/cells/ev-a/cordon')).status, 403);

    // Kubeconfigs are sealed at rest and never come back.
    const kubeconfig = readFileSync(region.cells[0]?.kubeconfig ?? '', 'utf8');
    const stored = await core.core.db.query<{ sealed: string }>(
      'select kubeconfig_sealed as sealed from cells',
    );
    assert.equal(stored.length, 3);
    for (const row of stored) {
      assert.match(row.sealed, /^v1\.[A-Za-z0-9_-]+$/);
      assert.ok(!row.sealed.includes('certificate') && !row.sealed.includes('apiVersion'));
    }
    const cell = (await admin.get('/api/v1/regions/test/cells/ev-a')).body;
    assert.equal(cell.kubeconfig, undefined);
    assert.equal(cell.server, region.cells[0]?.server);
    assert.equal((await admin.post('/api/v1/regions/test/cells', { name: 'ev-a', kubeconfig })).status, 409);
    const bad = await admin.post('/api/v1/regions/test/cells', {
      name: 'ev-x',
      kubeconfig: 'not: [a kubeconfig',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].path, 'kubeconfig');
    // A kubeconfig must not make core read its own files or run programs.
    const withUser = (user: object) => {
      const parsed = JSON.parse(kubeconfig);
      parsed.users[0].user = user;
      return JSON.stringify(parsed);
    };
    for (const [what, user] of [
      ['key files', { 'client-certificate': '/etc/hostname', 'client-key': '/etc/shadow' }],
      ['an exec plugin', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh' } }],
    ] as const) {
      const refused = await admin.post('/api/v1/regions/test/cells', {
        name: 'ev-x',
        kubeconfig: withUser(user),
      });
      assert.equal(refused.status, 400, `${what}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.errors[0].path, 'kubeconfig');
    }

    // One cluster is one cell: the same cluster under another name is refused (each
    // cell's sweep would delete the other's namespaces), and so is a kubeconfig that
    // reaches no apiserver (core could not tell which cluster it is).
    const twice = await admin.post('/api/v1/regions/test/cells', { name: 'ev-twice', kubeconfig });
    assert.equal(twice.status, 409, JSON.stringify(twice.body));
    assert.match(twice.body.detail, /already cell "ev-a"/);
    const nowhere = JSON.parse(kubeconfig);
    nowhere.clusters[0].cluster.server = 'https://127.0.0.1:1';
    const unreachable = await admin.post('/api/v1/regions/test/cells', {
      name: 'ev-x',
      kubeconfig: JSON.stringify(nowhere),
    });
    assert.equal(unreachable.status, 400, JSON.stringify(unreachable.body));
    assert.equal(unreachable.body.errors[0].path, 'kubeconfig');
    assert.match(unreachable.body.errors[0].message, /reaches no apiserver that answers/);
    // New credentials for the same cluster are taken; another cluster's are not.
    const otherCluster = readFileSync(region.cells[1]?.kubeconfig ?? '', 'utf8');
    const moved = await admin.patch('/api/v1/regions/test/cells/ev-a', { kubeconfig: otherCluster });
    assert.equal(moved.status, 409, JSON.stringify(moved.body));
    assert.match(moved.body.detail, /another cluster/);
    assert.equal((await admin.patch('/api/v1/regions/test/cells/ev-a', { kubeconfig })).status, 200);
    assert.equal((await admin.get('/api/v1/regions/test/cells/ev-twice')).status, 404, 'nothing was added');

    // Capacity: nodes, allocatable and requested, pods.
    const capacity = (await admin.get('/api/v1/regions/test/cells/ev-a/capacity')).body;
    assert.deepEqual(
      capacity.nodes.map((n: Json) => [n.name, n.ready]),
      [['ev-a-node', true]],
    );
    assert.ok(capacity.total.allocatable.cpuMillicores > 0 && capacity.total.allocatable.memoryMib > 0);
    assert.ok(capacity.total.allocatable.pods > 0);

    // Cordoned: no new application goes there; asking for it is refused.
    assert.equal((await admin.post('/api/v1/regions/test/cells/ev-c/cordon')).body.cordoned, true);
    const placed = await alice.post('/api/v1/applications', { name: 'move' });
    assert.deepEqual(
      placed.body.cells.map((c: Json) => c.name),
      ['ev-a', 'ev-b'],
    );
    const refused = await alice.post('/api/v1/applications', { name: 'there', cells: ['ev-a', 'ev-c'] });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errors[0].path, 'cells.1');
    const alone = await alice.post('/api/v1/applications', { name: 'alone', cells: ['ev-a'] });
    assert.equal(alone.status, 400, 'at least two cells when the region has two or more');
    assert.equal((await admin.post('/api/v1/regions/test/cells/ev-c/uncordon')).body.cordoned, false);

    const v1 = await alice.post(
      '/api/v1/applications/move/versions',
      httpboxVersion(region, { instances: 1 }),
    );
    assert.equal((await finished(alice, 'move', v1.body.id)).state, 'succeeded');
    const used = (await admin.get('/api/v1/regions/test/cells/ev-a/capacity')).body;
    assert.ok(used.total.requested.cpuMillicores >= 20, JSON.stringify(used.total));

    // Evacuate ev-b: ev-c takes over; ev-b's copy goes only once ev-c runs it.
    const evacuation = await admin.post('/api/v1/regions/test/cells/ev-b/evacuate');
    assert.equal(evacuation.status, 200, JSON.stringify(evacuation.body));
    assert.deepEqual(evacuation.body, { cell: 'ev-b', moves: [{ application: 'move', to: ['ev-c'] }] });
    assert.equal((await admin.get('/api/v1/regions/test/cells/ev-b')).body.cordoned, true);
    await until('move left ev-b', async () => {
      const app = (await alice.get('/api/v1/applications/move')).body;
      return (
        JSON.stringify(app.cells) ===
        JSON.stringify([
          { name: 'ev-a', state: 'active' },
          { name: 'ev-c', state: 'active' },
        ])
      );
    });
    await until(
      'namespace gone from ev-b',
      async () => (await clients.get('ev-b')?.namespace('move')) === 'absent',
    );
    const containers = (await alice.get('/api/v1/applications/move/containers')).body.items as Json[];
    assert.deepEqual(containers.map((c) => [c.cell, c.version, c.ready]).sort(), [
      ['ev-a', 'v1', true],
      ['ev-c', 'v1', true],
    ]);
    const version = (await alice.get('/api/v1/applications/move/versions/v1')).body;
    assert.deepEqual(version.instances, { 'ev-a': 1, 'ev-c': 1 });
    assert.equal((await alice.get('/api/v1/applications/move')).body.allocation.instances, 2);

    // Evacuate ev-c too: ev-b is cordoned, so no free cell is left; the application's
    // other cell (ev-a) takes ev-c's instance, and ev-c's copy goes once ev-a runs both.
    const shared = await admin.post('/api/v1/regions/test/cells/ev-c/evacuate');
    assert.equal(shared.status, 200, JSON.stringify(shared.body));
    assert.deepEqual(shared.body, { cell: 'ev-c', moves: [{ application: 'move', to: ['ev-a'] }] });
    await until('move left ev-c', async () => {
      const app = (await alice.get('/api/v1/applications/move')).body;
      return JSON.stringify(app.cells) === JSON.stringify([{ name: 'ev-a', state: 'active' }]);
    });
    await until(
      'namespace gone from ev-c',
      async () => (await clients.get('ev-c')?.namespace('move')) === 'absent',
    );
    const together = (await alice.get('/api/v1/applications/move/containers')).body.items as Json[];
    assert.deepEqual(together.map((c) => [c.cell, c.version, c.ready]).sort(), [
      ['ev-a', 'v1', true],
      ['ev-a', 'v1', true],
    ]);
    assert.deepEqual((await alice.get('/api/v1/applications/move/versions/v1')).body.instances, {
      'ev-a': 2,
    });
    assert.equal((await alice.get('/api/v1/applications/move')).body.allocation.instances, 2);

    // A cell or region still in use cannot be removed; an empty cell can.
    assert.equal((await admin.delete('/api/v1/regions/test/cells/ev-a')).status, 409);
    assert.equal((await admin.delete('/api/v1/regions/test')).status, 409);
    assert.equal((await admin.delete('/api/v1/regions/test/cells/ev-b')).status, 204);

    // With two regions, an application must name its region.
    assert.equal((await admin.post('/api/v1/regions', { name: 'other' })).status, 201);
    const unnamed = await alice.post('/api/v1/applications', { name: 'which' });
    assert.equal(unnamed.status, 400);
    assert.equal(unnamed.body.errors[0].path, 'region');
  } finally {
    await core.close();
  }
});
