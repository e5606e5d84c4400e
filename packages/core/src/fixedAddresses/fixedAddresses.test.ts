import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Ipam } from '@leengine/ipam';
import { leengineCellCni } from '@leengine/ipam/cell';
import { type AgentProcess, startAgentProcess } from '@leengine/ipam/testing';
import { useTestbed } from '@leengine/testbed';
import type { Json } from '../testing/apiClient.ts';
import { finished, httpboxVersion, startCellRegion, until } from '../testing/cellRegion.ts';

const testbed = useTestbed();
const work = mkdtempSync(join(tmpdir(), 'leengine-fixed-'));
const agents: AgentProcess[] = [];
after(async () => {
  for (const agent of agents) await agent.proc.stop();
  rmSync(work, { recursive: true, force: true });
});

const PATH = '/api/v1/applications/shop/fixed-addresses';

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', prefix = '32'] = cidr.split('/');
  const n = (a: string) => a.split('.').reduce((v, o) => v * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(prefix));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}

const sorted = (ips: string[]) => [...ips].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

test("an application's fixed addresses: reserved in its cell's IPAM, its pods take them, and upgrades keep to them", async () => {
  const region = await startCellRegion(testbed, ['fixed-a'], {
    withEtcd: true,
    cni: async (cell, etcd) => {
      const agent = await startAgentProcess({ node: `${cell}-node`, dir: work });
      agents.push(agent);
      return leengineCellCni({
        etcdEndpoints: [etcd.url],
        binDir: join(work, `${cell}-cni-bin`),
        agentPort: agent.port,
        agentTokenFile: agent.tokenFile,
      });
    },
  });
  const { core } = region;
  const client = region.etcd.client();
  try {
    const ipam = Ipam.create({ client, cell: 'fixed-a' });
    const alice = await core.user('alice');
    const dave = await core.user('dave');
    assert.equal((await alice.post('/api/v1/applications', { name: 'shop' })).status, 201);
    await alice.post('/api/v1/applications/shop/members', { username: 'dave', role: 'developer' });

    // Validation, roles: problem+json, nothing reserved.
    const zero = await alice.put(PATH, { size: 0 });
    assert.equal(zero.status, 400);
    assert.match(zero.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.deepEqual(
      zero.body.errors.map((e: Json) => e.path),
      ['size'],
    );
    assert.equal((await alice.put(PATH, { size: 4, cidr: '10.0.0.0/8' })).status, 400, 'unknown field');
    assert.equal((await alice.put(PATH, { size: 2.5 })).status, 400);
    const developer = await dave.put(PATH, { size: 4 });
    assert.equal(developer.status, 403, 'Master and up only');
    assert.match(developer.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.deepEqual(
      (await dave.get(PATH)).body,
      { application: 'shop', size: null, pools: [] },
      'readers see none yet',
    );
    assert.deepEqual(await ipam.listPools(), []);

    // Reserve 6 per cell: one aligned range, recorded in the cell's IPAM as the namespace's pool.
    const reserved = await alice.put(PATH, { size: 6 });
    assert.equal(reserved.status, 200, JSON.stringify(reserved.body));
    assert.equal(reserved.body.size, 6);
    const [pool] = reserved.body.pools as Json[];
    assert.equal(reserved.body.pools.length, 1);
    assert.equal(pool.cell, 'fixed-a');
    assert.equal(pool.size, 6);
    assert.match(pool.cidr, /^10\.88\.\d+\.\d+\/28$/);
    assert.ok(pool.capacity >= 6 && pool.capacity <= 16, `capacity ${pool.capacity}`);
    assert.deepEqual(pool.inUse, []);
    assert.deepEqual(
      (await ipam.listPools()).map((p) => [p.namespace, p.cidr, p.size]),
      [['shop', pool.cidr, 6]],
    );
    assert.equal((await alice.put(PATH, { size: 6 })).body.pools[0].cidr, pool.cidr, 'asking again keeps it');
    const resize = await alice.put(PATH, { size: 8 });
    assert.equal(resize.status, 409);
    assert.match(resize.body.detail, /already has 6 fixed addresses/);

    /** The pods of the application: their version and address, all in the pool. */
    const podsOf = async (version: string): Promise<string[]> => {
      const items = (await alice.get('/api/v1/applications/shop/containers')).body.items as Json[];
      const ips = items.filter((c) => c.version === version).map((c) => c.ip as string);
      for (const ip of ips) {
        assert.ok(inCidr(ip, pool.cidr), `${ip} (${version}) is in the pool ${pool.cidr}`);
        const allocation = await ipam.getAllocation(ip);
        assert.equal(allocation?.value.namespace, 'shop');
        const blocks = (await ipam.listPools())[0]?.blocks ?? [];
        assert.ok(allocation && blocks.includes(allocation.value.block), 'from a block of the pool');
      }
      return sorted(ips);
    };
    const deploy = async (mode: string) => {
      const posted = await alice.post(
        '/api/v1/applications/shop/versions',
        httpboxVersion(region, { env: [{ name: 'MODE', value: mode }] }),
      );
      assert.equal(posted.status, 202, JSON.stringify(posted.body));
      const op = await finished(alice, 'shop', posted.body.id);
      assert.equal(op.state, 'succeeded', JSON.stringify(op));
      return posted.body.version as string;
    };
    const inUseIs = (ips: string[]) =>
      until(`the pool's addresses in use to be ${ips.join(', ')}`, async () => {
        const view = (await alice.get(PATH)).body.pools[0];
        return JSON.stringify(view.inUse.map((a: Json) => a.ip)) === JSON.stringify(ips) ? view : undefined;
      });

    // A cell without the pool (one the application is placed in later, say): the cell
    // reconciler makes it before it applies the application there.
    await ipam.removePool('shop');
    assert.equal((await alice.get(PATH)).body.pools.length, 0);
    core.core.services.runtime.cells.enqueue('shop@fixed-a');
    const remade = await until('the reconciler to make the pool again', async () =>
      (await ipam.listPools()).find((p) => p.namespace === 'shop'),
    );
    assert.equal(remade.size, 6);
    pool.cidr = remade.cidr; // the same range, unless another took it meanwhile

    // v1: both pods take addresses of the pool and answer on them.
    const v1 = await podsOf(await deploy('one'));
    assert.equal(v1.length, 2);
    const view1 = await inUseIs(v1);
    assert.ok(view1.inUse.every((a: Json) => a.pod.startsWith('v1-')));
    for (const ip of v1) assert.equal((await fetch(`http://${ip}:8080/healthz`)).status, 200);

    // v2 (gray upgrade): its pods start beside v1's, so they take two more addresses of the pool.
    const v2 = await podsOf(await deploy('two'));
    assert.equal(v2.length, 2);
    assert.deepEqual(
      v2.filter((ip) => v1.includes(ip)),
      [],
      'v1 still held its addresses',
    );
    await inUseIs(v2);

    // v3: v1's pods are gone, so the new pods take their addresses again (lowest free first).
    const v3name = await deploy('three');
    const v3 = await podsOf(v3name);
    assert.deepEqual(v3, v1, 'the addresses v1 left are reused');
    await inUseIs(v3);
    for (const ip of v3) assert.equal((await fetch(`http://${ip}:8080/healthz`)).status, 200);

    // A deploy or a scale that cannot fit in the pool is refused up front (its new pods would
    // wait for an address forever): with v3's 2 pods running, capacity - 1 more is one too many.
    const tooMany = await alice.post(
      '/api/v1/applications/shop/versions',
      httpboxVersion(region, { instances: pool.capacity - 1 }),
    );
    assert.equal(tooMany.status, 409, JSON.stringify(tooMany.body));
    assert.match(tooMany.body.detail, /fixed addresses of shop are too few/);
    const scaleUp = await alice.post(`/api/v1/applications/shop/versions/${v3name}/scale`, {
      instances: pool.capacity + 1,
    });
    assert.equal(scaleUp.status, 409, JSON.stringify(scaleUp.body));
    assert.deepEqual(
      ((await alice.get('/api/v1/applications/shop/versions')).body.items as Json[]).map((v) => v.name),
      ['v3', 'v2', 'v1'],
      'nothing was started',
    );

    // Released only when no pod holds an address; the activity records what was done.
    const busy = await alice.delete(PATH);
    assert.equal(busy.status, 409);
    assert.match(busy.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.match(busy.body.detail, /still in use/);
    assert.equal((await ipam.listPools()).length, 1);
    assert.equal((await alice.get(PATH)).body.size, 6, 'a refused release changes nothing');
    const records = (await alice.get('/api/v1/applications/shop/activity')).body.items as Json[];
    assert.deepEqual(
      records
        .filter((x) => x.action.endsWith('fixed-addresses'))
        .map((x) => [x.actor, x.action, x.params.size ?? null, x.result, x.error]),
      [
        ['alice', 'release-fixed-addresses', null, 'failed', 'conflict'],
        ['alice', 'reserve-fixed-addresses', 8, 'failed', 'conflict'],
        ['alice', 'reserve-fixed-addresses', 6, 'succeeded', null],
        ['alice', 'reserve-fixed-addresses', 6, 'succeeded', null],
        ['dave', 'reserve-fixed-addresses', 4, 'failed', 'not-allowed'],
      ],
    );

    // Deleting the application gives the pool back once its namespace is gone.
    assert.equal((await alice.delete('/api/v1/applications/shop')).status, 204);
    await until('the pool to be released', async () => (await ipam.listPools()).length === 0);
    assert.deepEqual(
      (await ipam.usage()).blocks.filter((b) => b.owner.startsWith('pool/')),
      [],
    );
  } finally {
    client.close();
    await core.close();
  }
});
