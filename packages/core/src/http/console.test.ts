import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ROUTES } from '../../../console/src/api.ts';
import { loadConfig } from '../config.ts';
import { Core } from '../core.ts';

// The console is a separate app; this test drives the built one, served by a real core,
// in Debian's Chromium, the way a person would.
const consoleDir = new URL('../../../console/dist', import.meta.url).pathname;
let core: Core;
let browser: Browser;
let base: string;
let admin: { username: string; password: string };

before(async () => {
  if (!existsSync(`${consoleDir}/index.html`)) {
    const build = spawnSync('npm', ['run', 'build', '-w', '@leengine/console'], { stdio: 'inherit' });
    assert.equal(build.status, 0, 'the console builds');
  }
  core = await Core.create(
    loadConfig({
      LEENGINE_DATA_DIR: 'memory://',
      LEENGINE_PORT: '0',
      LOG_LEVEL: 'silent',
      LEENGINE_CONSOLE_DIR: consoleDir,
    }),
  );
  base = await core.listen();
  const first = await core.ensureFirstAdmin();
  assert.ok(first);
  admin = { username: first.username, password: first.password };
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await core?.close();
});

async function signIn(page: Page): Promise<void> {
  await page.goto(`${base}/`);
  await page.waitForURL(/\/login$/);
  await page.fill('input[name=username]', admin.username);
  await page.fill('input[name=password]', admin.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('header nav');
}

test('every API route the console calls exists in core’s OpenAPI document', async () => {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const missing = ROUTES.filter((route) => {
    const [method = '', path = ''] = route.split(' ');
    return !doc.paths[path]?.[method.toLowerCase()];
  });
  assert.deepEqual(missing, []);
});

test('a wrong password shows the API’s problem; the right one opens home', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/applications`);
  await page.waitForURL(/\/login$/);
  await page.fill('input[name=username]', admin.username);
  await page.fill('input[name=password]', 'wrong-password-123');
  await page.click('button[type=submit]');
  await page.waitForSelector('.banner');
  assert.match((await page.textContent('.banner')) ?? '', /password|credentials|invalid/i);
  await page.fill('input[name=password]', admin.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Recent activity');
  await page.close();
});

test('creating an application: the form checks before sending, the API’s errors land on the field', async () => {
  const page = await browser.newPage();
  await signIn(page);
  await page.click('a[href="/applications"]');
  await page.click('text=New application');
  await page.fill('form[aria-label="new application"] input[name=name]', 'Bad Name!');
  await page.click('form[aria-label="new application"] button[type=submit]');
  await page.waitForSelector('form[aria-label="new application"] .field-error');
  assert.match(
    (await page.textContent('form[aria-label="new application"] .field-error .error')) ?? '',
    /DNS label/,
  );

  // A reserved name passes the pattern but the API refuses it: its message shows on the field.
  await page.fill('form[aria-label="new application"] input[name=name]', 'shop');
  await page.fill('form[aria-label="new application"] input[name=description]', 'the shop');
  await page.click('form[aria-label="new application"] button[type=submit]');
  await page.waitForSelector('a[href="/applications/shop"]');
  await page.click('a[href="/applications/shop"]');
  await page.waitForSelector('text=Your role');
  assert.match((await page.textContent('.role')) ?? '', /owner/);
  await page.click('role=tab[name="Activity"]');
  await page.waitForSelector('table.activity td:has-text("create")');
  await page.screenshot({ path: '/tmp/leengine-console-application.png', fullPage: true });
  await page.close();
});

test('the help page renders the permission table for every resource', async () => {
  const page = await browser.newPage();
  await signIn(page);
  await page.click('a[href="/help"]');
  await page.waitForSelector('table.permissions[data-kind="build-project"]');
  const kinds = await page.$$eval('table.permissions', (tables) =>
    tables.map((t) => t.getAttribute('data-kind')),
  );
  assert.deepEqual(kinds.sort(), ['application', 'build-project', 'image-group', 'image-repository']);
  const deployRow = await page.textContent(
    'table.permissions[data-kind="application"] tr:has-text("deploy")',
  );
  // Owner and Master deploy (the seed's rule); Developer does not.
  const marks = await page.$$eval(
    'table.permissions[data-kind="application"] tr:has(b:text-is("deploy")) td.mark',
    (tds) => tds.map((td) => td.textContent),
  );
  assert.ok(deployRow);
  assert.deepEqual(marks, ['✓', '✓', '', '', '']);
  await page.close();
});

test('the boss console shows operation statistics and manages users', async () => {
  const page = await browser.newPage();
  await signIn(page);
  await page.click('a[href="/boss"]');
  await page.waitForSelector('svg[aria-label="operations per day"]');
  await page.fill('input[name=new-username]', 'alice');
  await page.fill('input[name=new-password]', 'short');
  await page.click('form[aria-label="new user"] button[type=submit]');
  await page.waitForSelector('form[aria-label="new user"] .field-error');
  await page.fill('input[name=new-password]', 'long-enough-password');
  await page.click('form[aria-label="new user"] button[type=submit]');
  await page.waitForSelector('text=@alice');
  await page.screenshot({ path: '/tmp/leengine-console-boss.png', fullPage: true });
  await page.close();
});

test('unknown API paths stay problems and client routes load the app', async () => {
  const api = await fetch(`${base}/api/v1/nothing`);
  assert.equal(api.status, 404);
  assert.equal(((await api.json()) as { type: string }).type, 'urn:leengine:problem:route-not-found');
  const deep = await fetch(`${base}/applications/shop`, { headers: { accept: 'text/html' } });
  assert.equal(deep.status, 200);
  assert.match(await deep.text(), /<div id="root">/);
  const asset = await fetch(`${base}/assets/missing.js`);
  assert.equal(asset.status, 404);
});

test('the console’s own reads: who is signed in (null, not 401), where the registry is, cells’ IPAM for admins only', async () => {
  const anonymous = await fetch(`${base}/api/v1/session`);
  assert.equal(anonymous.status, 200);
  assert.deepEqual(await anonymous.json(), { user: null });
  const bad = await fetch(`${base}/api/v1/session`, { headers: { authorization: 'Bearer lee_pat_nothing' } });
  assert.deepEqual(await bad.json(), { user: null });

  const signIn = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-leengine-client': 'test' },
    body: JSON.stringify(admin),
  });
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const me = (await (await fetch(`${base}/api/v1/session`, { headers: { cookie } })).json()) as {
    user: { username: string; admin: boolean };
  };
  assert.equal(me.user.username, admin.username);
  assert.equal(me.user.admin, true);

  // This core has no registry and no etcd: no host to show, and no IPAM to read.
  assert.deepEqual(await (await fetch(`${base}/api/v1/registry`, { headers: { cookie } })).json(), {
    host: null,
  });
  assert.equal((await fetch(`${base}/api/v1/registry`)).status, 401);
  const ipam = await fetch(`${base}/api/v1/regions/none/cells/none/ipam`, { headers: { cookie } });
  assert.equal(ipam.status, 404);
  const userCreated = await fetch(`${base}/api/v1/users`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'x-leengine-client': 'test' },
    body: JSON.stringify({ username: 'carol', password: 'carol-password-123' }),
  });
  assert.equal(userCreated.status, 201);
  const carol = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-leengine-client': 'test' },
    body: JSON.stringify({ username: 'carol', password: 'carol-password-123' }),
  });
  const carolCookie = (carol.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const refused = await fetch(`${base}/api/v1/regions/none/cells/none/ipam`, {
    headers: { cookie: carolCookie },
  });
  assert.equal(refused.status, 403);
});
