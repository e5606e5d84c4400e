import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Buildah } from './buildah.ts';
import { useTestbed } from './nodeTest.ts';

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
