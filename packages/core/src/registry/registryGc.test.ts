// Garbage collection of the region registry through core's admin API, on the real
// registry (Debian's docker-registry 2.8) and its real storage, with real pushes and pulls:
// a dry run reports what a deleted image left behind, the collection frees exactly that
// while pushes are refused and pulls go on, and the registry is read-write afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Buildah, storageBytes, useTestbed } from '@leengine/testbed';
import { localRegistryMaintenance } from '../localRegion/registryMaintenance.ts';
import type { ApiClient, Json } from '../testing/apiClient.ts';
import { type Outcome, skopeo } from '../testing/registryClients.ts';
import { type RegistryCore, startRegistryCore } from '../testing/registryCore.ts';

const testbed = useTestbed();
let rc: RegistryCore;
let buildah: Buildah;
let owner: { api: ApiClient; token: string };
const creds = () => `owner:${owner.token}`;
const PATH = '/api/v1/registry/garbage-collections';
/** Runs inside the collection step, before garbage-collect itself (the registry is read-only then). */
let duringCollect: (() => Promise<void>) | undefined;

before(async () => {
  rc = await startRegistryCore(testbed, {
    maintenance: (registry) => {
      const local = localRegistryMaintenance(registry);
      return {
        setReadOnly: (readOnly) => local.setReadOnly(readOnly),
        garbageCollect: async (options) => {
          await duringCollect?.();
          return local.garbageCollect(options);
        },
      };
    },
  });
  owner = await rc.user('owner');
  assert.equal((await owner.api.post('/api/v1/image-groups', { name: 'team' })).status, 201);
  buildah = Buildah.create();
  await buildah.busyboxImage('localhost/base:latest');
  // Images on the same base, each with a layer of its own (random: it compresses to its size).
  for (const [name, bytes] of [
    ['one', 400_000],
    ['two', 300_000],
    ['three', 100_000],
  ] as const) {
    const c = await buildah.run(['from', '--pull-never', 'localhost/base:latest']);
    const file = join(tmpdir(), `gc-${process.pid}-${name}.bin`);
    writeFileSync(file, randomBytes(bytes));
    await buildah.run(['add', c, file, `/${name}.bin`]);
    await buildah.run(['commit', '--quiet', c, `localhost/${name}:latest`]);
    rmSync(file);
  }
});
after(async () => {
  buildah?.remove();
  await rc?.close();
});

async function push(image: string, destination: string): Promise<Outcome> {
  try {
    await buildah.push(`localhost/${image}:latest`, `${rc.registry.host}/${destination}`, { creds: creds() });
    return { ok: true, output: '' };
  } catch (error) {
    return {
      ok: false,
      output: `${(error as Error).message} ${(error as { detail?: string }).detail ?? ''}`,
    };
  }
}

/** A whole pull: manifest, config and every layer downloaded into a fresh directory. */
async function pull(image: string): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'gc-pull-'));
  try {
    return await skopeo([
      'copy',
      '--src-tls-verify=false',
      `--src-creds=${creds()}`,
      `docker://${rc.registry.host}/${image}`,
      `dir:${join(dir, 'image')}`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The manifest of `repository:tag` as the registry serves it (raw bytes and parsed). */
async function manifest(repository: string, tag: string) {
  const now = Math.floor(Date.now() / 1000);
  const token = rc.signer.sign({
    iss: 'leengine-core',
    sub: 'test',
    aud: 'leengine-registry',
    iat: now,
    nbf: now,
    exp: now + 60,
    jti: `gc-${Math.random()}`,
    access: [{ type: 'repository', name: repository, actions: ['pull'] }],
  });
  const response = await fetch(`${rc.registry.url}/v2/${repository}/manifests/${tag}`, {
    headers: {
      authorization: `Bearer ${token}`,
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  assert.equal(response.status, 200);
  const raw = Buffer.from(await response.arrayBuffer());
  const body = JSON.parse(raw.toString()) as {
    config: { digest: string; size: number };
    layers: { digest: string; size: number }[];
  };
  return { bytes: raw.length, digest: response.headers.get('docker-content-digest') as string, ...body };
}

/** Polls the operation until it is no longer running. */
async function finished(id: string): Promise<Json> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await rc.admin.get(`${PATH}/${id}`);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    if (got.body.state !== 'running') return got.body;
    if (Date.now() > deadline)
      assert.fail(`garbage collection ${id} still running: ${JSON.stringify(got.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('only admins start, list and read garbage collections', async () => {
  assert.equal((await owner.api.post(PATH, { dryRun: true })).status, 403);
  assert.equal((await owner.api.get(PATH)).status, 403);
  assert.equal((await rc.anonymous.post(PATH, { dryRun: true })).status, 401);
  assert.equal((await rc.admin.get(`${PATH}/no-such-id`)).status, 404);
  assert.equal((await rc.admin.post(PATH, { dryRun: 'yes' })).status, 400);
});

test('a deleted image: the dry run reports its unshared blobs, the collection frees exactly those (pushes refused meanwhile, pulls going on), the other image still pulls', async () => {
  assert.ok((await push('one', 'team/one:v1')).ok);
  assert.ok((await push('two', 'team/two:v1')).ok);
  const one = await manifest('team/one', 'v1');
  const two = await manifest('team/two', 'v1');
  const shared = new Set(one.layers.map((l) => l.digest));
  const own = two.layers.filter((l) => !shared.has(l.digest));
  assert.equal(own.length, 1, 'two shares the base layer with one and has one of its own');
  // What only two holds: its manifest, its config and its own layer.
  const unshared = two.bytes + two.config.size + (own[0]?.size ?? 0);
  assert.equal((await rc.admin.delete('/api/v1/image-groups/team/repositories/two')).status, 204);

  const dry = await rc.admin.post(PATH, {});
  assert.equal(dry.status, 202, JSON.stringify(dry.body));
  assert.equal(dry.body.dryRun, true, 'a dry run unless told otherwise');
  const report = await finished(dry.body.id);
  assert.equal(report.state, 'succeeded', JSON.stringify(report));
  assert.deepEqual(
    report.steps.map((s: Json) => [s.name, s.state]),
    [['collect', 'succeeded']],
  );
  assert.equal(report.report.bytes, unshared);
  assert.deepEqual(
    report.report.blobs.map((b: Json) => b.digest).sort(),
    [two.digest, two.config.digest, own[0]?.digest].sort(),
  );
  assert.equal(report.report.markedBlobs, 2 + one.layers.length, "one's manifest, config and layers stay");
  assert.equal(report.bytesFreed, null);
  assert.equal(rc.registry.readOnly, false, 'a dry run leaves the registry read-write');
  assert.ok((await push('three', 'team/one:while-dry')).ok);

  // The collection: a push during it is refused, a pull goes on.
  const during: { push?: Outcome; pull?: Outcome; readOnly?: boolean } = {};
  duringCollect = async () => {
    during.readOnly = rc.registry.readOnly;
    during.push = await push('three', 'team/three:during');
    during.pull = await pull('team/one:v1');
  };
  const storageBefore = await storageBytes(rc.registry.storageDir);
  let collection: Json;
  try {
    const started = await rc.admin.post(PATH, { dryRun: false });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.state, 'running');
    const second = await rc.admin.post(PATH, { dryRun: true });
    assert.equal(second.status, 409, 'one at a time');
    collection = await finished(started.body.id);
  } finally {
    duringCollect = undefined;
  }
  assert.equal(collection.state, 'succeeded', JSON.stringify(collection));
  assert.deepEqual(
    collection.steps.map((s: Json) => [s.name, s.state]),
    [
      ['read-only', 'succeeded'],
      ['collect', 'succeeded'],
      ['read-write', 'succeeded'],
    ],
  );
  assert.equal(during.readOnly, true);
  assert.equal(during.push?.ok, false, 'a push during the collection is refused');
  assert.match(during.push?.output ?? '', /405|method not allowed|unsupported/i);
  assert.equal(during.pull?.ok, true, `a pull during the collection: ${during.pull?.output}`);
  assert.equal(collection.report.bytes, unshared);
  assert.equal(collection.bytesFreed, unshared);
  assert.equal(
    storageBefore - (await storageBytes(rc.registry.storageDir)),
    unshared,
    'the storage shrank by that',
  );
  assert.ok(collection.pushesRefusedMs > 0);
  assert.ok(Date.parse(collection.finishedAt) >= Date.parse(collection.startedAt));

  // Afterwards: pushes work again, the kept image pulls whole, nothing is left to collect.
  assert.equal(rc.registry.readOnly, false);
  const after = await push('three', 'team/three:after');
  assert.ok(after.ok, after.output);
  const kept = await pull('team/one:v1');
  assert.ok(kept.ok, kept.output);
  const again = await finished((await rc.admin.post(PATH, { dryRun: true })).body.id);
  assert.equal(again.report.blobs.length, 0);

  const listed = await rc.admin.get(PATH);
  assert.deepEqual(
    listed.body.items.slice(0, 3).map((o: Json) => o.id),
    [again.id, collection.id, report.id],
  );
  const feed = await rc.admin.get('/api/v1/user/activity?limit=20');
  const actions = feed.body.items.map((a: Json) => `${a.action} ${a.result}`);
  for (const action of [
    'registry-gc succeeded',
    'registry-gc-end succeeded',
    'registry-gc-dry-run succeeded',
  ]) {
    assert.ok(actions.includes(action), `${action} in ${actions}`);
  }
  assert.ok(actions.includes('registry-gc-dry-run failed'), 'the refused second start is recorded');
  const end = feed.body.items.find((a: Json) => a.action === 'registry-gc-end');
  assert.equal(end.params.bytesFreed, unshared);
  const start = feed.body.items.find((a: Json) => a.action === 'registry-gc');
  assert.equal(start.params.id, collection.id);
  assert.equal(end.params.id, collection.id);
});

test('a collection that fails puts the registry back read-write', async () => {
  duringCollect = async () => {
    assert.equal(rc.registry.readOnly, true);
    throw new Error('garbage-collect broke');
  };
  let failed: Json;
  try {
    failed = await finished((await rc.admin.post(PATH, { dryRun: false })).body.id);
  } finally {
    duringCollect = undefined;
  }
  assert.equal(failed.state, 'failed');
  assert.match(failed.error, /garbage-collect broke/);
  assert.deepEqual(
    failed.steps.map((s: Json) => [s.name, s.state]),
    [
      ['read-only', 'succeeded'],
      ['collect', 'failed'],
      ['read-write', 'succeeded'],
    ],
  );
  assert.equal(rc.registry.readOnly, false);
  const pushed = await push('three', 'team/three:after-failure');
  assert.ok(pushed.ok, pushed.output);
});
