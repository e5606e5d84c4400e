import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import type { RegionEndpoints } from './localRegion.ts';

const main = new URL('./main.ts', import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), 'leengine-region-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));

test('the local-region command starts everything, answers /healthz, and stops cleanly on Ctrl-C', async () => {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, LEENGINE_STATE_DIR: stateDir, LEENGINE_PORT: '0', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const output: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    output.push(line);
    if (line.startsWith('Press Ctrl-C')) break;
  }
  assert.ok(
    output.some((l) => l.startsWith('LeEngine local region is up')),
    `no banner; stderr: ${stderr}`,
  );

  const endpoints = JSON.parse(readFileSync(join(stateDir, 'region.json'), 'utf8')) as RegionEndpoints;
  const health = await fetch(`${endpoints.core}/healthz`);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const ready = (await (await fetch(`${endpoints.core}/readyz`)).json()) as {
    checks: Record<string, unknown>;
  };
  assert.deepEqual(Object.keys(ready.checks).sort(), ['database', 'etcd']);
  const throughNginx = await fetch(`${endpoints.slb}/healthz`);
  assert.equal(throughNginx.status, 200, 'the SLB node proxies to core');
  // The registry sends clients to core for tokens.
  const challenge = await fetch(`${endpoints.registry}/v2/`);
  assert.equal(challenge.status, 401);
  assert.equal(
    challenge.headers.get('www-authenticate'),
    `Bearer realm="${endpoints.core}/v2/token",service="leengine-registry"`,
  );
  assert.match(endpoints.database, /^PGlite in /);

  // The first start creates the first admin and prints the credentials once; they work
  // through the SLB node.
  const username = output
    .find((l) => l.trim().startsWith('username'))
    ?.trim()
    .split(/\s+/)[1];
  const password = output
    .find((l) => l.trim().startsWith('password'))
    ?.trim()
    .split(/\s+/)[1];
  assert.equal(username, 'admin', `no first admin in: ${output.join('\n')}`);
  const signIn = await fetch(`${endpoints.slb}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-leengine-client': 'test' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(signIn.status, 200);
  assert.equal(((await signIn.json()) as { user: { admin: boolean } }).user.admin, true);

  // The cells are registered as region `local` (kubeconfigs sealed with a key made once, 0600).
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  assert.equal(statSync(join(stateDir, 'secret.key')).mode & 0o777, 0o600);
  let cells: { name: string; health: { state: string } }[] = [];
  for (let i = 0; i < 100; i++) {
    const regions = (await (
      await fetch(`${endpoints.core}/api/v1/regions`, { headers: { cookie } })
    ).json()) as {
      items: { name: string; cells: typeof cells }[];
    };
    assert.deepEqual(
      regions.items.map((r) => r.name),
      ['local'],
    );
    cells = regions.items[0]?.cells ?? [];
    if (cells.every((c) => c.health.state === 'healthy')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(
    cells.map((c) => [c.name, c.health.state]),
    [
      ['local-1', 'healthy'],
      ['local-2', 'healthy'],
    ],
  );

  // The cells' pause image went in through core's token auth and is public: an anonymous
  // token reads it; the admin's password gets push on a new repository of it.
  const anonymous = (await (
    await fetch(`${endpoints.core}/v2/token?service=leengine-registry&scope=repository:leengine/pause:pull`)
  ).json()) as { token: string };
  const pause = await fetch(`${endpoints.registry}/v2/leengine/pause/manifests/1`, {
    headers: {
      authorization: `Bearer ${anonymous.token}`,
      accept: 'application/vnd.oci.image.manifest.v1+json',
    },
  });
  assert.equal(pause.status, 200);
  const basic = Buffer.from(`${username}:${password}`).toString('base64');
  const adminToken = await fetch(
    `${endpoints.core}/v2/token?service=leengine-registry&scope=repository:leengine/pause:pull,push`,
    { headers: { authorization: `Basic ${basic}` } },
  );
  assert.equal(adminToken.status, 200);

  child.kill('SIGINT');
  assert.equal(await exited, 0);
  await assert.rejects(fetch(`${endpoints.etcd}/health`), 'etcd is stopped with the region');
});
