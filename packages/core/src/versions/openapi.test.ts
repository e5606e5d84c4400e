import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestCore, type TestCore } from '../testing/testCore.ts';

let tc: TestCore;
before(async () => {
  tc = await startTestCore();
});
after(() => tc?.close());

test('/openapi.json documents regions, cells, versions, operations, events, containers and logs from the zod schemas', async () => {
  const doc = (await tc.anonymous.get('/openapi.json')).body;
  const expected: [string, string, string?][] = [
    ['/api/v1/regions', 'post', 'CreateRegion'],
    ['/api/v1/regions/{region}/cells', 'post', 'CreateCell'],
    ['/api/v1/regions/{region}/cells/{cell}/capacity', 'get'],
    ['/api/v1/regions/{region}/cells/{cell}/evacuate', 'post'],
    ['/api/v1/applications/{name}/versions', 'post', 'DeployVersion'],
    ['/api/v1/applications/{name}/versions/new', 'get'],
    ['/api/v1/applications/{name}/versions/{version}/scale', 'post', 'ScaleVersion'],
    ['/api/v1/applications/{name}/rollback', 'post', 'Rollback'],
    ['/api/v1/applications/{name}/operations/{id}/abort', 'post'],
    ['/api/v1/applications/{name}/events', 'get'],
    ['/api/v1/applications/{name}/containers', 'get'],
    ['/api/v1/applications/{name}/cells/{cell}/containers/{pod}/logs', 'get'],
    ['/api/v1/applications/{name}/fixed-addresses', 'get'],
    ['/api/v1/applications/{name}/fixed-addresses', 'put', 'FixedAddressRequest'],
    ['/api/v1/applications/{name}/fixed-addresses', 'delete'],
  ];
  for (const [path, method, body] of expected) {
    const operation = doc.paths[path]?.[method];
    assert.ok(operation, `${method.toUpperCase()} ${path} is documented`);
    if (body) assert.match(JSON.stringify(operation.requestBody), new RegExp(body), `${path} takes ${body}`);
  }
  assert.ok(doc.paths['/api/v1/applications/{name}/versions'].post.responses['202']);
  for (const schema of [
    'Region',
    'Cell',
    'CellCapacity',
    'Version',
    'NewVersion',
    'Operation',
    'ApplicationEvent',
    'ContainerList',
    'FixedAddresses',
  ]) {
    assert.ok(doc.components.schemas[schema], `schema ${schema}`);
  }
});

test('without etcd (no IPAM), fixed addresses answer 503 as problem+json', async () => {
  const answer = await tc.admin.get('/api/v1/applications/any/fixed-addresses');
  assert.equal(answer.status, 503);
  assert.match(answer.body.detail, /ETCD_ENDPOINTS/);
});
