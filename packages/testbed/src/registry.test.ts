import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Buildah } from './buildah.ts';
import { useTestbed } from './nodeTest.ts';
import { storageBytes } from './registryGarbage.ts';

const testbed = useTestbed();

test('the registry answers GET /v2/ with the distribution API version', async () => {
  const registry = await testbed.registry();
  const response = await fetch(`${registry.url}/v2/`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
});

test('the registry accepts a real push of an image built by buildah', async () => {
  const registry = await testbed.registry();
  await using buildah = Buildah.create();
  const imageId = await buildah.busyboxImage('localhost/tiny:latest', {
    cmd: ['/bin/busybox', 'echo', 'hi'],
  });
  assert.match(imageId, /^[0-9a-f]{64}$/);

  await buildah.push('localhost/tiny:latest', `${registry.host}/testbed/tiny:v1`);

  const tags = (await (await fetch(`${registry.url}/v2/testbed/tiny/tags/list`)).json()) as {
    tags: string[];
  };
  assert.deepEqual(tags.tags, ['v1']);
  const manifest = await fetch(`${registry.url}/v2/testbed/tiny/manifests/v1`, {
    headers: {
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  assert.equal(manifest.status, 200);
  const body = (await manifest.json()) as { layers: { size: number; digest: string }[] };
  assert.equal(body.layers.length, 1);
  // The layer holds the static busybox (about a megabyte, compressed).
  assert.ok((body.layers[0]?.size ?? 0) > 300_000);
  const blob = await fetch(`${registry.url}/v2/testbed/tiny/blobs/${body.layers[0]?.digest}`, {
    method: 'HEAD',
  });
  assert.equal(blob.status, 200);
});

test('read-only, the registry serves pulls and refuses pushes on the same port; garbage-collect reports and frees the blobs no manifest references', async () => {
  const registry = await testbed.registry();
  await using buildah = Buildah.create();
  await buildah.busyboxImage('localhost/base:latest');
  // Two images on the same base, each with a layer of its own.
  for (const [name, bytes] of [
    ['one', 300_000],
    ['two', 200_000],
  ] as const) {
    const c = await buildah.run(['from', '--pull-never', 'localhost/base:latest']);
    const file = join(registry.dir, `${name}.bin`);
    writeFileSync(file, randomBytes(bytes));
    await buildah.run(['add', c, file, `/${name}.bin`]);
    await buildah.run(['commit', '--quiet', c, `localhost/${name}:latest`]);
    await buildah.push(`localhost/${name}:latest`, `${registry.host}/gc/${name}:v1`);
  }
  const firstPid = registry.process.pid;

  await registry.setReadOnly(true);
  assert.ok(registry.readOnly);
  assert.notEqual(registry.process.pid, firstPid, 'a new process, on the same port');
  const pulled = await fetch(`${registry.url}/v2/gc/one/tags/list`);
  assert.equal(pulled.status, 200, 'reads go on');
  const upload = await fetch(`${registry.url}/v2/gc/one/blobs/uploads/`, { method: 'POST' });
  assert.equal(upload.status, 405, 'pushes are refused');
  await assert.rejects(buildah.push('localhost/two:latest', `${registry.host}/gc/two:v2`));

  // Delete two's manifest: its own layer, its config and the manifest's blob are garbage.
  const head = await fetch(`${registry.url}/v2/gc/two/manifests/v1`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  const digest = head.headers.get('docker-content-digest') as string;
  await registry.setReadOnly(false);
  const deleted = await fetch(`${registry.url}/v2/gc/two/manifests/${digest}`, { method: 'DELETE' });
  assert.equal(deleted.status, 202);
  await registry.setReadOnly(true);

  const dry = await registry.garbageCollect({ dryRun: true });
  assert.equal(dry.blobs.length, 3, dry.output);
  assert.ok(dry.blobs.some((b) => b.digest === digest));
  assert.ok(dry.bytes > 200_000, "two's own layer is counted");
  assert.equal(dry.blobBytesAfter, dry.blobBytesBefore, 'a dry run deletes nothing');
  assert.equal(dry.markedBlobs, 4, "one's manifest, config, base layer and own layer");

  const storageBefore = await storageBytes(registry.storageDir);
  const collected = await registry.garbageCollect({ dryRun: false });
  assert.deepEqual(collected.blobs, dry.blobs);
  assert.equal(collected.blobBytesBefore - collected.blobBytesAfter, dry.bytes);
  assert.equal(
    storageBefore - (await storageBytes(registry.storageDir)),
    dry.bytes,
    'the storage shrank by that',
  );
  assert.equal((await registry.garbageCollect({ dryRun: true })).blobs.length, 0, 'nothing left');

  await registry.setReadOnly(false);
  assert.ok(!registry.readOnly);
  await buildah.push('localhost/two:latest', `${registry.host}/gc/two:v2`);
  const one = await fetch(`${registry.url}/v2/gc/one/manifests/v1`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  assert.equal(one.status, 200, 'the kept image is still there');
  await buildah.run(['pull', '--policy=always', '--tls-verify=false', `docker://${registry.host}/gc/one:v1`]);
  await registry.stop();
  assert.ok(registry.process.exitStatus, 'stop() ends the restarted process');
});
