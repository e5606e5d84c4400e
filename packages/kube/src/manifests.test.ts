import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANNOTATIONS, LABELS } from './labels.ts';
import {
  deploymentManifest,
  pullSecretManifest,
  secretManifest,
  serviceManifest,
  specHash,
  type VersionSpec,
} from './manifests.ts';

const spec: VersionSpec = {
  application: 'shop',
  version: 'v7',
  image: '127.0.0.1:5000/team/shop:abc123',
  replicas: 3,
  port: 8080,
  cpu: { requestMillis: 250, limitMillis: 1000 },
  memory: { requestMiB: 128, limitMiB: 512 },
  env: [
    { name: 'MODE', value: 'prod' },
    { name: 'DB_PASSWORD', value: 's3cret', secret: true },
  ],
  healthCheck: {
    path: '/healthz',
    port: 8080,
    initialDelaySeconds: 2,
    periodSeconds: 5,
    timeoutSeconds: 1,
    failureThreshold: 3,
    liveness: false,
  },
};

test('a version becomes one Deployment named after it, selected by application and version', () => {
  const d = deploymentManifest(spec);
  assert.equal(d.metadata?.name, 'v7');
  assert.equal(d.metadata?.namespace, 'shop');
  assert.deepEqual(d.spec?.selector.matchLabels, { [LABELS.application]: 'shop', [LABELS.version]: 'v7' });
  assert.equal(d.spec?.template.metadata?.labels?.[LABELS.application], 'shop', 'the Service selects it');
  const container = d.spec?.template.spec?.containers[0];
  assert.deepEqual(container?.resources, {
    requests: { cpu: '250m', memory: '128Mi' },
    limits: { cpu: '1000m', memory: '512Mi' },
  });
  assert.equal(container?.readinessProbe?.httpGet?.path, '/healthz');
  assert.equal(container?.livenessProbe, undefined, 'liveness only when asked');
  const check = spec.healthCheck as NonNullable<VersionSpec['healthCheck']>;
  const live = deploymentManifest({ ...spec, healthCheck: { ...check, liveness: true } });
  assert.equal(live.spec?.template.spec?.containers[0]?.livenessProbe?.httpGet?.port, 8080);
});

test('secret env values go to a Secret and are referenced, never inlined', () => {
  const d = deploymentManifest(spec);
  const env = d.spec?.template.spec?.containers[0]?.env ?? [];
  assert.deepEqual(env[0], { name: 'MODE', value: 'prod' });
  assert.deepEqual(env[1], {
    name: 'DB_PASSWORD',
    valueFrom: { secretKeyRef: { name: 'v7-env', key: 'DB_PASSWORD' } },
  });
  assert.ok(!JSON.stringify(d).includes('s3cret'));
  assert.deepEqual(secretManifest(spec)?.stringData, { DB_PASSWORD: 's3cret' });
  assert.equal(secretManifest({ ...spec, env: [] }), undefined);
});

test('the application Service is headless and selects every version', () => {
  const s = serviceManifest('shop', 8080);
  assert.equal(s.spec?.clusterIP, 'None');
  assert.deepEqual(s.spec?.selector, { [LABELS.application]: 'shop' });
  assert.equal(s.metadata?.labels?.[LABELS.application], 'shop');
  assert.equal(s.spec?.ports?.[0]?.targetPort, 'http', "each pod's own named port");
  assert.deepEqual(serviceManifest('shop').spec?.ports, [], 'no port before the first version');
});

test('the spec hash on a Deployment changes with the spec, not with its replicas', () => {
  const hash = deploymentManifest(spec).metadata?.annotations?.[ANNOTATIONS.specHash];
  assert.equal(hash, specHash(spec));
  assert.equal(specHash({ ...spec, replicas: 9 }), hash);
  assert.notEqual(specHash({ ...spec, image: `${spec.image}x` }), hash);
});

test('a pull secret is a dockerconfigjson for the registry host, and versions that use it reference it', () => {
  const secret = pullSecretManifest('shop', 'leengine-pull', {
    host: '127.0.0.1:5000',
    username: 'robot$app$shop',
    password: 'lee_pull_x',
  });
  assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
  assert.equal(secret.metadata?.namespace, 'shop');
  const config = JSON.parse(Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString());
  assert.deepEqual(config.auths['127.0.0.1:5000'], {
    username: 'robot$app$shop',
    password: 'lee_pull_x',
    auth: Buffer.from('robot$app$shop:lee_pull_x').toString('base64'),
  });
  const withSecret = deploymentManifest({ ...spec, imagePullSecret: 'leengine-pull' });
  assert.deepEqual(withSecret.spec?.template.spec?.imagePullSecrets, [{ name: 'leengine-pull' }]);
  assert.equal(deploymentManifest(spec).spec?.template.spec?.imagePullSecrets, undefined);
  assert.notEqual(specHash({ ...spec, imagePullSecret: 'leengine-pull' }), specHash(spec));
});
