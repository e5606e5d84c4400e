import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type DomainConfigInput, DomainConfigSchema } from '@leengine/common';
import { renderControlBatch, renderDynamicState } from './dynamicState.ts';
import { renderDomain } from './renderDomain.ts';
import { renderMain } from './renderMain.ts';

const testdata = join(import.meta.dirname, 'testdata');
const listen = { http: ['127.0.0.1:8080'], https: ['127.0.0.1:8443'], certDir: '/etc/leengine/slb/certs' };

/** Compares with testdata/<name>; UPDATE_GOLDEN=1 rewrites the file instead. */
function golden(name: string, actual: string): void {
  const path = join(testdata, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  assert.equal(
    actual,
    readFileSync(path, 'utf8'),
    `${name} differs from the golden file (UPDATE_GOLDEN=1 to accept)`,
  );
}

export const fixtures: Record<string, DomainConfigInput> = {
  minimal: { domain: 'shop.example.com', group: 'public', application: 'shop' },
  full: {
    domain: 'api.example.com',
    group: 'public',
    application: 'api',
    locations: [
      { path: '/', match: 'prefix' },
      { path: '/ws', match: 'prefix', proxy: { websocket: true, readTimeoutSeconds: 3600 } },
      { path: '/upload', match: 'exact', proxy: { clientMaxBodySizeMb: 50, buffering: false } },
    ],
    proxy: {
      connectTimeoutSeconds: 2,
      readTimeoutSeconds: 30,
      sendTimeoutSeconds: 30,
      clientMaxBodySizeMb: 5,
    },
    headers: {
      request: [{ name: 'X-Tenant', value: 'blue; {green} #1 costs $5' }],
      response: [{ name: 'Strict-Transport-Security', value: 'max-age=31536000' }],
    },
    tls: { certificate: 'wildcard-example', redirectHttp: true },
    canary: { version: 'v2', weight: 10, header: { name: 'X-Canary', value: 'always' } },
    special: {
      proxyBufferSizeKb: 16,
      proxyBuffers: { count: 8, sizeKb: 16 },
      proxyBusyBuffersSizeKb: 32,
      keepaliveTimeoutSeconds: 30,
      largeClientHeaderBuffers: { count: 4, sizeKb: 16 },
      allowCidrs: ['10.0.0.0/8', '192.168.1.0/24'],
      nextUpstreamTries: 2,
    },
  },
  'tls-both': {
    domain: 'both.example.com',
    group: 'intranet',
    application: 'both',
    tls: { certificate: 'both', redirectHttp: false },
  },
};

for (const [name, input] of Object.entries(fixtures)) {
  test(`renderDomain: ${name} matches its golden file`, () => {
    golden(`${name}.conf`, renderDomain(DomainConfigSchema.parse(input), listen));
  });
}

test('renderDomain is pure: the same config renders the same bytes', () => {
  const config = DomainConfigSchema.parse(fixtures.full);
  assert.equal(renderDomain(config, listen), renderDomain(structuredClone(config), listen));
});

test('renderMain matches its golden file', () => {
  golden(
    'main.conf',
    renderMain({
      root: '/var/lib/leengine/slb',
      genDir: '/var/lib/leengine/slb/gens/g7',
      generation: 'g7',
      modulesDir: '/usr/lib/nginx/modules',
      workerProcesses: 2,
      workerConnections: 4096,
      dropPrivileges: true,
      http: ['0.0.0.0:80'],
      metrics: '127.0.0.1:9145',
      controlSocket: '/var/lib/leengine/slb/control.sock',
      upstreamsDictMb: 64,
      metricsDictMb: 32,
      keepalive: 256,
    }),
  );
});

test('dynamic state: canary rule first, peers sorted and de-duplicated, empty for nothing', () => {
  const state = renderDynamicState(
    [
      { ip: '10.88.1.5', port: 8080, weight: 1, cell: 'b', version: 'v2' },
      { ip: '10.88.0.7', port: 8080, weight: 3, cell: 'a', version: 'v1' },
      { ip: '10.88.0.7', port: 8080, weight: 3, cell: 'a', version: 'v1' },
    ],
    {
      version: 'v2',
      weight: 25,
      cookie: { name: 'beta', value: 'yes' },
      header: { name: 'X-Canary', value: 'on' },
    },
  );
  assert.equal(
    state,
    'canary v2 25 http_x_canary on cookie_beta yes\npeer 10.88.0.7 8080 3 v1\npeer 10.88.1.5 8080 1 v2\n',
  );
  assert.equal(renderDynamicState([], undefined), '');
  assert.equal(
    renderControlBatch(
      new Map([
        ['a.example.com', 'peer 10.0.0.1 80 1 -\n'],
        ['b.example.com', null],
      ]),
    ),
    '@a.example.com\npeer 10.0.0.1 80 1 -\n@b.example.com\ndelete\n',
  );
});
