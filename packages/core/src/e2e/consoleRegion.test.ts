import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { gitRepo } from '@leengine/build/testing';
import { Ipam } from '@leengine/ipam';
import { Etcd3 } from 'etcd3';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { LocalRegion } from '../localRegion/localRegion.ts';

// The console end to end, the way people use it: Debian's Chromium drives the built
// console served by a real local region (core on PGlite, etcd, the registry with token
// auth, two Kubernetes cells with a real node each). Every browser console error and
// page error fails the test it happens in; the only tolerated ones are API refusals the
// test provokes on purpose and asserts (expectRefusal).

const repoRoot = new URL('../../../../', import.meta.url).pathname;
const consoleDir = join(repoRoot, 'packages/console/dist');
/** Screenshots of each main page (git-ignored; docs/console.md lists them). */
const screens = join(repoRoot, 'test-results/screens');
const stateDir = mkdtempSync(join(tmpdir(), 'leengine-console-e2e-'));
const WAIT = { timeout: 240_000 };

let region: LocalRegion;
let browser: Browser;
let admin: { username: string; password: string };
let base: string;
let adminContext: BrowserContext;
let page: Page;
const problems: string[] = [];
const tolerated: RegExp[] = [];

/** Records console errors and page errors; each must be an expected refusal or the test fails. */
function watch(p: Page, who: string): void {
  p.on('console', (message) => {
    if (message.type() !== 'error') return;
    const i = tolerated.findIndex((r) => r.test(message.text()));
    if (i >= 0) tolerated.splice(i, 1);
    else problems.push(`${who}: console error: ${message.text()}`);
  });
  p.on('pageerror', (error) => problems.push(`${who}: page error: ${error.message}`));
}

/** The browser logs an API refusal (4xx) as a console error: this one is provoked on purpose. */
function expectRefusal(status: number): void {
  tolerated.push(new RegExp(`status of ${status} `));
}

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(screens, `${name}.png`), fullPage: true });
}

async function signIn(p: Page, username: string, password: string): Promise<void> {
  await p.goto(`${base}/`);
  await p.waitForURL(/\/login$/);
  await p.getByLabel('Username').fill(username);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForSelector('text=Recent activity');
}

async function tab(p: Page, name: string): Promise<void> {
  await p.getByRole('tab', { name }).click();
}

/** As the admin, on a resource page's Members tab: adds `username` with `role`. */
async function addMember(path: string, username: string, role: string): Promise<void> {
  await page.goto(`${base}${path}`);
  await tab(page, 'Members');
  const add = page.getByRole('form', { name: 'add member' });
  await add.getByLabel('Username').fill(username);
  await add.getByLabel('Role').selectOption(role);
  await add.getByRole('button', { name: 'Add member' }).click();
  await page.waitForSelector(`tr[data-member="${username}"]`);
}

/** Runs `steps` in a browser context of its own, signed in as bob (watched for errors too). */
async function asBob(steps: (bob: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const bob = await context.newPage();
    watch(bob, 'bob');
    await signIn(bob, 'bob', 'bob-password-123');
    await steps(bob);
    await bob.close();
  } finally {
    await context.close();
  }
}

before(async () => {
  if (!existsSync(join(consoleDir, 'index.html'))) {
    const build = spawnSync('npm', ['run', 'build', '-w', '@leengine/console'], {
      cwd: repoRoot,
      stdio: 'inherit',
    });
    assert.equal(build.status, 0, 'the console builds');
  }
  mkdirSync(screens, { recursive: true });
  region = await LocalRegion.start({
    stateDir,
    env: {
      ...process.env,
      LEENGINE_PORT: '0',
      LEENGINE_SLB_PORT: '0',
      LEENGINE_APPS_PORT: '0',
      LEENGINE_CONSOLE_DIR: consoleDir,
      DATABASE_URL: '',
      LOG_LEVEL: 'silent',
    },
  });
  assert.ok(region.firstAdmin, 'a fresh region prints its first admin');
  admin = { username: region.firstAdmin.username, password: region.firstAdmin.password };
  base = region.endpoints.core;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await adminContext.newPage();
  watch(page, 'admin');
});

afterEach(() => {
  const seen = problems.splice(0);
  tolerated.splice(0);
  assert.deepEqual(seen, [], 'no console errors or page errors in the browser');
});

after(async () => {
  await browser?.close();
  await region?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

test('the first admin the region printed signs in; home lists what they take part in', async () => {
  await page.goto(`${base}/applications`);
  await page.waitForURL(/\/login$/);
  // The form checks before sending: an empty password never reaches the API.
  await page.getByLabel('Username').fill(admin.username);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('.field-error');
  await signIn(page, admin.username, admin.password);
  // The system images' group, created at region start by the first admin.
  await page.waitForSelector('a[href="/images/leengine"]');
  await shot(page, 'home');
});

test('an application is created, deployed, upgraded (gray) and scaled from the console', async () => {
  await page.getByRole('navigation').getByRole('link', { name: 'Applications' }).click();
  await page.getByRole('button', { name: 'New application' }).click();
  const create = page.getByRole('form', { name: 'new application' });
  await create.getByLabel('Name').fill('Bad Name!');
  await create.getByRole('button', { name: 'Create' }).click();
  assert.match((await create.locator('.field-error .error').textContent()) ?? '', /DNS label/);
  await create.getByLabel('Name').fill('shop');
  await create.getByLabel('Description').fill('the shop front');
  await create.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('link', { name: 'shop', exact: true }).click();
  await page.waitForSelector('text=Your role');
  assert.match((await page.locator('p.role').textContent()) ?? '', /owner/);

  // First version: the form starts from the platform's defaults.
  await page.getByRole('button', { name: 'Deploy a new version' }).click();
  const deploy = page.getByRole('form', { name: 'deploy a version' });
  await deploy.getByLabel('Image repository').fill('leengine/httpbox');
  // Checked before sending: no tag is no request.
  await deploy.getByRole('button', { name: /Deploy/ }).click();
  await deploy.locator('.field-error').first().waitFor();
  // A tag the registry does not have passes the form's check; the API's field error lands on the field.
  await deploy.getByLabel('Image tag').fill('no-such-tag');
  await deploy.getByLabel('Instances per cell').fill('1');
  await deploy.getByLabel('Health check path').fill('/healthz');
  await deploy.getByLabel('Stop grace period (s)').fill('1');
  expectRefusal(400);
  await deploy.getByRole('button', { name: /Deploy/ }).click();
  await deploy.locator('.field-error:has(input[name="image.tag"]) .error').waitFor();
  assert.match(
    (await deploy.locator('.field-error:has(input[name="image.tag"]) .error').textContent()) ?? '',
    /no tag "no-such-tag"/,
  );
  await deploy.getByLabel('Image tag').fill('1');
  await deploy.getByRole('button', { name: /Deploy/ }).click();
  // The operation shows its steps live, then succeeds.
  await page.waitForSelector('.operation[data-state="running"] progress');
  await shot(page, 'application-deploying');
  await page.waitForSelector('.operation[data-state="succeeded"]', WAIT);
  await page.waitForSelector('tr[data-version="v1"][data-state="active"]');

  // Gray upgrade: the form is prefilled from v1; pick the tag, change one variable, go.
  await page.getByRole('button', { name: 'Deploy a new version' }).click();
  assert.equal(await deploy.getByLabel('Image repository').inputValue(), 'leengine/httpbox');
  assert.equal(await deploy.getByLabel('Health check path').inputValue(), '/healthz');
  assert.equal(await deploy.getByLabel('Stop grace period (s)').inputValue(), '1');
  await deploy.getByLabel('Image tag').fill('1');
  await deploy.getByLabel('Environment').fill('MODE=v2');
  await deploy.getByRole('button', { name: /Deploy/ }).click();
  await page.waitForSelector('.operation[data-state="running"]:has-text("replacing v1")');
  await page.waitForSelector('.operation[data-state="succeeded"]:has-text("replacing v1")', WAIT);
  await page.waitForSelector('tr[data-version="v2"][data-state="active"]');
  await page.waitForSelector('tr[data-version="v1"][data-state="retired"]');
  await shot(page, 'application-upgraded');

  // Scale v2 to two instances in local-1: a labelled dialog, Escape cancels it.
  await page.locator('tr[data-version="v2"]').getByRole('button', { name: 'Scale' }).click();
  const scale = page.getByRole('dialog', { name: 'Scale v2' });
  await scale.waitFor();
  assert.equal(
    await scale.getByLabel('Instances in local-1').evaluate((e) => e === document.activeElement),
    true,
  );
  await page.keyboard.press('Escape');
  await scale.waitFor({ state: 'detached' });
  await page.locator('tr[data-version="v2"]').getByRole('button', { name: 'Scale' }).click();
  await scale.getByLabel('Instances in local-1').fill('-1');
  await scale.getByRole('button', { name: 'Scale' }).click();
  await scale.locator('.field-error').waitFor();
  await scale.getByLabel('Instances in local-1').fill('2');
  await scale.getByRole('button', { name: 'Scale' }).click();
  await page.waitForSelector('.operation:has-text("scale")[data-state="succeeded"]', WAIT);
  await page.waitForSelector('tr[data-version="v2"] .cellstatus:has-text("local-1: 2/2")', WAIT);
});

test('containers and events of the application', async () => {
  await tab(page, 'Containers');
  // v2's three containers, ready (v1's stopping ones leave the table as they go).
  await page.waitForFunction(
    () => {
      const rows = Array.from(document.querySelectorAll('table.containers tbody tr'));
      return rows.length === 3 && rows.every((r) => r.getAttribute('data-ready') === 'true');
    },
    undefined,
    WAIT,
  );
  const rows = await page.$$eval('table.containers tbody tr', (trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')),
  );
  assert.deepEqual(rows.map((r) => r[2]).sort(), ['local-1', 'local-1', 'local-2']);
  for (const r of rows) {
    assert.equal(r[1], 'v2');
    assert.match(r[4] ?? '', /^\d+\.\d+\.\d+\.\d+$/, 'every container has its IP');
  }
  await page
    .locator('table.containers tbody tr')
    .first()
    .getByRole('button', { name: /logs of/ })
    .click();
  await page.waitForSelector('pre.log');
  // Follow: what the container writes from now on streams into the log (httpbox logs
  // each request it serves); Follow off ends the stream, Close removes the log.
  await page.getByRole('checkbox', { name: 'Follow' }).check();
  await page.waitForSelector('pre.log[data-streaming="true"]', WAIT);
  const marker = `/console-follow-${Date.now()}`;
  assert.equal((await fetch(`http://${rows[0]?.[4]}:8080${marker}`)).status, 404);
  await page.waitForFunction(
    (m) => document.querySelector('pre.log')?.textContent?.includes(`url:${m}`),
    marker,
    WAIT,
  );
  await shot(page, 'application-containers');
  await page.getByRole('checkbox', { name: 'Follow' }).uncheck();
  await page.waitForSelector('pre.log[data-streaming="false"]', WAIT);
  await page.getByRole('button', { name: 'Close log' }).click();
  await page.waitForSelector('pre.log', { state: 'detached' });

  // Exec: a line through the container's shell; its exit code and output, then an empty
  // command refused before sending.
  await page
    .locator('table.containers tbody tr')
    .first()
    .getByRole('button', { name: /run a command in/ })
    .click();
  const run = page.getByRole('form', { name: /run a command in/ });
  await run.getByLabel('Command').fill('echo "served by $(hostname)"; exit 2');
  await run.getByRole('button', { name: 'Run' }).click();
  const result = page.locator('.exec-result[data-exit-code="2"]');
  await result.waitFor(WAIT);
  assert.match((await result.locator('pre[data-stream="stdout"]').textContent()) ?? '', /^served by \S+\n$/);
  await shot(page, 'application-exec');
  await run.getByLabel('Command').fill('');
  await run.getByRole('button', { name: 'Run' }).click();
  await run.locator('.field-error').waitFor();
  await page.getByRole('button', { name: 'Close', exact: true }).click();
  await run.waitFor({ state: 'detached' });

  await tab(page, 'Events');
  await page.waitForSelector('table.events tbody tr');
  const reasons = await page.$$eval('table.events tbody td:nth-child(4)', (tds) =>
    tds.map((td) => td.textContent),
  );
  assert.ok(reasons.length > 0);
  await shot(page, 'application-events');
});

test('the load-balancer tab binds a domain and shows its settings and rendered nginx config', async () => {
  // An SLB group to bind on, made by the admin in the boss console.
  await page.getByRole('navigation').getByRole('link', { name: 'Boss' }).click();
  const group = page.getByRole('form', { name: 'new SLB group' });
  await group.getByLabel('Group name').fill('Not A Label');
  await group.getByRole('button', { name: 'Save SLB group' }).click();
  await group.locator('.field-error').waitFor();
  await group.getByLabel('Group name').fill('e2e');
  await group.getByLabel('VIP').fill('10.10.0.10');
  await group.getByLabel('Description').fill('the test group');
  await group.getByRole('button', { name: 'Save SLB group' }).click();
  await page.waitForSelector('.slb-group[data-group="e2e"]');

  await page.goto(`${base}/applications/shop`);
  await tab(page, 'Load balancer');
  const bind = page.getByRole('form', { name: 'bind a domain' });
  await bind.getByLabel('Domain').fill('shop.example.com');
  // The region's own group: its slb-agent applies the domain.
  await bind.getByLabel('SLB group').selectOption('local');
  await bind.getByRole('button', { name: 'Bind domain' }).click();
  await page.getByRole('button', { name: 'shop.example.com', exact: true }).click();
  const detail = page.getByRole('region', { name: 'domain shop.example.com' });
  await detail.waitFor();
  const settings = detail.getByRole('form', { name: 'domain settings' });
  await settings.getByLabel('Read timeout (s)').fill('120');
  await settings.getByRole('button', { name: 'Save domain settings' }).click();
  await detail.locator('text=read 120 s').waitFor();
  // The form starts again from what is stored now.
  await settings.locator('input[name="proxy.readTimeoutSeconds"][value="120"]').waitFor();
  await detail.locator('dd:has-text("serving")').waitFor(WAIT);
  await detail.getByRole('button', { name: 'Show the rendered nginx config' }).click();
  const nginx = await detail.locator('pre.nginx').textContent();
  assert.match(nginx ?? '', /server_name\s+"?shop\.example\.com"?/);
  assert.match(nginx ?? '', /proxy_read_timeout\s+120s/);
  await shot(page, 'application-load-balancer');
});

test('fixed addresses: a pool per cell is reserved from the application page, inside each cell’s segment', async () => {
  await page.goto(`${base}/applications/shop`);
  await tab(page, 'Fixed addresses');
  const reserve = page.getByRole('form', { name: 'reserve fixed addresses' });
  // Checked before sending: the API's schema wants 1–1024.
  await reserve.getByLabel('Addresses per cell').fill('0');
  await reserve.getByRole('button', { name: 'Reserve' }).click();
  await reserve.locator('.field-error').waitFor();
  await reserve.getByLabel('Addresses per cell').fill('6');
  await reserve.getByRole('button', { name: 'Reserve' }).click();
  await page.getByRole('button', { name: 'Release fixed addresses' }).waitFor();
  const etcd = new Etcd3({ hosts: region.endpoints.etcd });
  try {
    for (const cell of ['local-1', 'local-2']) {
      const pool = page.getByRole('region', { name: `fixed addresses in ${cell}` });
      const cidr = ((await pool.locator('[data-fact="cidr"]').textContent()) ?? '').trim();
      // 6 usable addresses: one aligned /28, in the cell's pod segment 10.88.<n>.0/24.
      const match = /^10\.88\.(\d+)\.(\d+)\/28$/.exec(cidr);
      assert.ok(match, `${cell}: ${cidr} is a /28 of 10.88.0.0/16`);
      const segments = await Ipam.create({ client: etcd, cell }).listSegments();
      assert.ok(
        segments.some((s) => s.cidr === `10.88.${match[1]}.0/24`),
        `${cell}: ${cidr} lies in one of the cell's segments (${segments.map((s) => s.cidr).join(', ')})`,
      );
    }
  } finally {
    etcd.close();
  }
  await shot(page, 'application-fixed-addresses');
});

test('an image repository shows its tags with size, digest, pusher and the pull command', async () => {
  await page.goto(`${base}/images/leengine/httpbox`);
  const row = page.locator('table.tags tr[data-tag="1"]');
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  assert.match(cells[1] ?? '', /\d+(\.\d)? (B|KiB|MiB)/);
  assert.match(cells[2] ?? '', /^sha256:/);
  const registryHost = new URL(region.endpoints.registry).host;
  assert.equal(
    (await page.locator('.copy-command code').textContent()) ?? '',
    `docker pull ${registryHost}/leengine/httpbox:1`,
  );
  await shot(page, 'image-tags');
});

test('the boss console: statistics, cells with their IP address usage and leaks, SLB agents, users and quotas', async () => {
  let extraSegment = '';
  // A second segment, and an address held (an hour ago) for a pod that never existed: a leak.
  const etcd = new Etcd3({ hosts: region.endpoints.etcd });
  try {
    const ipam = Ipam.create({ client: etcd, cell: 'local-1', now: () => new Date(Date.now() - 3_600_000) });
    // A second segment, only as data (no pod is given one of its addresses): still inside
    // 10.88.0.0/16, which the cells route locally, beside the cell's own 10.88.<n>.0/24.
    const own = Number((await ipam.listSegments())[0]?.cidr.split('.')[2]);
    extraSegment = `10.88.${(own + 128) % 256}.0/24`;
    await ipam.addSegment({ cidr: extraSegment, vlan: 250 });
    await ipam.allocate({
      attachment: { containerId: 'e2e-gone', ifname: 'eth0' },
      pod: { namespace: 'shop', name: 'gone-pod' },
      node: 'local-1-node',
    });
  } finally {
    etcd.close();
  }
  await page.getByRole('navigation').getByRole('link', { name: 'Boss' }).click();
  await page.waitForSelector('svg[aria-label="operations per day"]');
  await page.waitForSelector('tr[data-cell="local-1"]');
  await page.getByRole('button', { name: 'usage of local-1' }).click();
  await page.waitForSelector('tr[data-cell="local-1"] td:has-text(" m / ")');
  await page.getByRole('button', { name: 'IP addresses of local-1' }).click();
  const ipam = page.getByRole('region', { name: 'IP addresses of local-1' });
  await ipam.locator(`table.segments td:has-text("${extraSegment}")`).waitFor();
  await ipam.locator('table.leaks td:has-text("shop/gone-pod")').waitFor();
  assert.match((await ipam.locator('table.leaks tbody tr').first().textContent()) ?? '', /pod-gone/);

  // The region's SLB group and its agent's applied revision.
  const agentRow = page.locator('.slb-group[data-group="local"] table.agents tbody tr').first();
  await agentRow.waitFor();
  assert.match((await agentRow.locator('td').nth(1).textContent()) ?? '', /^\d+$/);

  // Users: bob is created (the form checks the password first), then gets a quota override.
  const newUser = page.getByRole('form', { name: 'new user' });
  await newUser.getByLabel('Username').fill('bob');
  await newUser.getByLabel('Password').fill('short');
  await newUser.getByRole('button', { name: 'Add user' }).click();
  await newUser.locator('.field-error').waitFor();
  await newUser.getByLabel('Password').fill('bob-password-123');
  await newUser.getByRole('button', { name: 'Add user' }).click();
  await page.waitForSelector('tr[data-user="bob"]');
  await page.getByRole('button', { name: 'quota of bob' }).click();
  const quota = page.getByRole('dialog', { name: 'Quota of bob' });
  await quota.getByLabel('Applications override').fill('3');
  await quota.getByRole('button', { name: 'Save overrides' }).click();
  await quota.locator('text=Saved').waitFor();
  await shot(page, 'boss-quota');
  await page.keyboard.press('Escape');
  await quota.waitFor({ state: 'detached' });
  await shot(page, 'boss');
});

test('regions and cells in the boss console: a region is created (a bad name refused first), a cluster that already is a cell is refused as a new cell, and the empty region is deleted after confirming', async () => {
  await page.getByRole('navigation').getByRole('link', { name: 'Boss' }).click();
  const newRegion = page.getByRole('form', { name: 'new region' });
  await newRegion.getByLabel('Region name').fill('Extra Region');
  await newRegion.getByRole('button', { name: 'Create region' }).click();
  await newRegion.locator('.field-error:has-text("DNS label")').waitFor();
  await newRegion.getByLabel('Region name').fill('extra');
  await newRegion.getByLabel('Description').fill('a second region');
  await newRegion.getByRole('button', { name: 'Create region' }).click();
  const extra = page.locator('.region[data-region="extra"]');
  await extra.waitFor();
  assert.match((await extra.locator('h3').textContent()) ?? '', /a second region/);

  // local-1's own kubeconfig as a new cell of extra: core reads which cluster it reaches.
  await extra.locator('summary:has-text("Add a cell to extra")').click();
  const add = page.getByRole('form', { name: 'add a cell to extra' });
  await add.getByLabel('Cell name').fill('extra-1');
  await add
    .getByLabel('Kubeconfig', { exact: true })
    .fill(readFileSync(region.endpoints.cells[0]?.kubeconfig ?? '', 'utf8'));
  expectRefusal(409);
  await add.getByRole('button', { name: 'Add cell' }).click();
  await add.locator('[role="alert"]:has-text(\'already cell "local-1"\')').waitFor();
  await shot(page, 'boss-regions');
  assert.equal(await extra.locator('tr[data-cell]').count(), 0, 'no cell was added');

  await extra.getByRole('button', { name: 'delete region extra' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Delete region extra?' });
  await confirm.getByRole('button', { name: 'Delete region' }).click();
  await confirm.waitFor({ state: 'detached' });
  await extra.waitFor({ state: 'detached' });
});

test('destructive actions ask first in a keyboard-usable alertdialog; Escape keeps everything', async () => {
  await page.goto(`${base}/applications/shop`);
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Delete application shop?' });
  await confirm.waitFor();
  // Cancel has the focus; Tab stays inside the dialog.
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Delete application shop');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
  await shot(page, 'confirm-dialog');
  await page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'detached' });
  // Focus returns to the button that opened it, and the application is still there.
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Delete');
  await page.reload();
  await page.waitForSelector('tr[data-version="v2"][data-state="active"]');
});

test('a member with a narrower role sees the page without the actions their role lacks', async () => {
  await addMember('/applications/shop', 'bob', 'reporter');
  await asBob(async (bob) => {
    await bob.getByRole('link', { name: 'shop', exact: true }).first().click();
    await bob.waitForSelector('text=Your role');
    assert.match((await bob.locator('p.role').textContent()) ?? '', /reporter/);
    await bob.waitForSelector('tr[data-version="v2"]');
    // Reporter: reads versions, containers, logs and activity; deploys, scales, deletes nothing.
    assert.equal(await bob.getByRole('button', { name: 'Deploy a new version' }).count(), 0);
    assert.equal(await bob.getByRole('button', { name: 'Scale' }).count(), 0);
    assert.equal(await bob.getByRole('button', { name: 'Roll back to this' }).count(), 0);
    assert.equal(await bob.getByRole('button', { name: 'Delete', exact: true }).count(), 0);
    await shot(bob, 'application-as-reporter');
    await tab(bob, 'Members');
    await bob.waitForSelector('tr[data-member="bob"]');
    assert.equal(await bob.getByRole('form', { name: 'add member' }).count(), 0);
    assert.equal(await bob.getByRole('button', { name: /^remove / }).count(), 0);
    await tab(bob, 'Load balancer');
    await bob.waitForSelector('[data-domain="shop.example.com"]');
    assert.equal(await bob.getByRole('form', { name: 'bind a domain' }).count(), 0);
    assert.equal(await bob.getByRole('button', { name: /^unbind / }).count(), 0);
    await bob.getByRole('button', { name: 'shop.example.com', exact: true }).click();
    await bob.waitForSelector('text=Read-only');
    assert.equal(await bob.getByRole('form', { name: 'domain settings' }).count(), 0);
    await tab(bob, 'Fixed addresses');
    await bob.getByRole('region', { name: 'fixed addresses in local-1' }).waitFor();
    assert.equal(await bob.getByRole('form', { name: 'reserve fixed addresses' }).count(), 0);
    assert.equal(await bob.getByRole('button', { name: 'Release fixed addresses' }).count(), 0);
    await tab(bob, 'Containers');
    await bob.waitForSelector('table.containers tbody tr');
    assert.ok((await bob.getByRole('button', { name: /logs of/ }).count()) > 0, 'reporters read logs');
    assert.equal(
      await bob.getByRole('button', { name: /run a command in/ }).count(),
      0,
      'no exec below Master',
    );
    await tab(bob, 'Activity');
    await bob.waitForSelector('table.activity tbody tr');
    // No boss console for bob.
    assert.equal(await bob.getByRole('link', { name: 'Boss' }).count(), 0);
  });
});

test('a build is triggered from the console and its log streams live with each step’s duration; its tag can be deleted after confirming', async () => {
  const registryHost = new URL(region.endpoints.registry).host;
  const repo = gitRepo(join(stateDir, 'repos', 'web'), {
    message: 'built by the console e2e',
    Dockerfile: `FROM ${registryHost}/leengine/httpbox:1\nCOPY message /www/message\n`,
  });
  // An image group and a public repository, from the images pages.
  await page.getByRole('navigation').getByRole('link', { name: 'Images' }).click();
  await page.getByRole('button', { name: 'New image group' }).click();
  const group = page.getByRole('form', { name: 'new image group' });
  await group.getByLabel('Name').fill('apps');
  await group.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('link', { name: 'apps', exact: true }).first().click();
  const repository = page.getByRole('form', { name: 'new repository' });
  await repository.getByLabel('Repository name').fill('web');
  await repository.getByLabel('Public').check();
  await repository.getByRole('button', { name: 'New repository' }).click();
  await page.getByRole('link', { name: 'apps/web' }).waitFor();

  // A build project: the API alone knows the caller may not push to apps/nope; its field error shows.
  await page.getByRole('navigation').getByRole('link', { name: 'Builds' }).click();
  await page.getByRole('button', { name: 'New build project' }).click();
  const project = page.getByRole('form', { name: 'new build project' });
  await project.getByLabel('Name').fill('web');
  await project.getByLabel('Git URL').fill(`file://${repo}`);
  await project.getByLabel('Branch').fill('main');
  await project.getByLabel('Image repository').fill('apps/nope');
  expectRefusal(400);
  await project.getByRole('button', { name: 'Create' }).click();
  await project.locator('.field-error:has(input[name="imageRepository"]) .error').waitFor();
  await project.getByLabel('Image repository').fill('apps/web');
  await project.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('link', { name: 'web', exact: true }).click();

  // The trigger dialog: branch (prefilled), commit, tag, cache switch; checked before sending.
  await page.getByRole('button', { name: 'Trigger a build' }).click();
  const trigger = page.getByRole('dialog', { name: 'Trigger a build' });
  assert.equal(await trigger.getByLabel('Branch', { exact: true }).inputValue(), 'main');
  await trigger.getByLabel('Commit').fill('not-a-commit');
  await trigger.getByRole('button', { name: 'Start build' }).click();
  await trigger.locator('.field-error:has(input[name="commit"])').waitFor();
  await trigger.getByLabel('Commit').fill('');
  await trigger.getByLabel('Image tag').fill('e2e-1');
  await trigger.getByLabel('Use the dependency cache').uncheck();
  await trigger.getByRole('button', { name: 'Start build' }).click();

  // The log page: the build's status, steps and log arrive over SSE while it runs.
  await page.waitForURL(/\/builds\/web\/1$/);
  await page.waitForSelector('[data-status="succeeded"]', { timeout: 300_000 });
  const steps = await page.$$eval('table.steps tbody tr', (rows) =>
    rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent ?? '')),
  );
  assert.deepEqual(
    steps.map((r) => [r[0], r[1]]),
    [
      ['clone', 'done'],
      ['compile', 'skipped'],
      ['image', 'done'],
      ['push', 'done'],
    ],
  );
  for (const r of steps.filter((r) => r[1] === 'done')) assert.match(r[2] ?? '', /^\d+\.\d s$/);
  const log = (await page.getByRole('log', { name: 'build log' }).textContent()) ?? '';
  assert.match(log, /\[clone\]/);
  assert.match(log, /build succeeded/);
  assert.match((await page.textContent('main')) ?? '', /cache off/);
  await shot(page, 'build-log');
  await page.getByRole('link', { name: '← web' }).click();
  await page.waitForSelector('tr[data-build="1"]:has-text("succeeded")');
  await shot(page, 'build-history');

  // The pushed tag, with its pusher (the build's robot); deleting it asks first.
  await page.goto(`${base}/images/apps/web`);
  const row = page.locator('table.tags tr[data-tag="e2e-1"]');
  await row.waitFor();
  await row.getByRole('button', { name: 'delete tag e2e-1' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Delete tag e2e-1?' });
  await confirm.getByRole('button', { name: 'Delete tag' }).click();
  await confirm.waitFor({ state: 'detached' });
  await page.waitForSelector('text=No tags yet');
});

test('registry garbage collection from the boss console: a dry run reports the deleted tag’s blobs; the confirmed collection deletes them, step by step', async () => {
  await page.getByRole('navigation').getByRole('link', { name: 'Boss' }).click();
  const section = page.getByRole('region', { name: 'Registry garbage collection' });
  const form = section.getByRole('form', { name: 'registry garbage collection' });
  await form.getByRole('button', { name: 'Dry run', exact: true }).click();
  const dry = section.locator('section.gc[data-state="succeeded"]:has([data-step="collect"])');
  await dry.waitFor(WAIT);
  assert.deepEqual(
    await dry.locator('[data-step]').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-step'))),
    ['collect'],
  );
  const reclaimable = ((await dry.locator('[data-fact="reclaimable"]').textContent()) ?? '').trim();
  const found = /^(\d+) blobs, \d+(\.\d)? (B|KiB|MiB)$/.exec(reclaimable);
  assert.ok(found, `the dry run's report: ${reclaimable}`);
  // The tag the build test pushed and deleted left at least its manifest behind.
  assert.ok(Number(found[1]) >= 1, 'the deleted tag left blobs to collect');

  await form.getByRole('button', { name: 'Collect…' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Collect the registry’s garbage?' });
  await confirm.waitFor();
  assert.match((await confirm.textContent()) ?? '', /Pushes are refused while it runs/);
  await confirm.getByRole('button', { name: 'Collect', exact: true }).click();
  await confirm.waitFor({ state: 'detached' });
  const run = section.locator('section.gc[data-state="succeeded"]:has([data-step="read-only"])');
  await run.waitFor(WAIT);
  const steps = await run.locator('[data-step]').allTextContents();
  assert.deepEqual(
    steps.map((t) => /^(.+?) succeeded \(\d+\.\d\d s\)/.exec(t)?.[1]),
    ['Restart read-only', 'Collect', 'Restart read-write'],
    `steps: ${steps.join(' | ')}`,
  );
  assert.equal(
    ((await run.locator('[data-fact="reclaimable"]').textContent()) ?? '').split(',')[0],
    `${found[1]} blobs`,
  );
  assert.match((await run.locator('[data-fact="freed"]').textContent()) ?? '', /^\d+(\.\d)? (B|KiB|MiB)$/);
  assert.match((await run.locator('[data-fact="pushes-refused"]').textContent()) ?? '', /^\d+\.\d\d s$/);
  // The history: the collection, then the dry run, both succeeded.
  await section.locator('table.gc-history tbody tr').nth(1).waitFor();
  assert.deepEqual(
    await section
      .locator('table.gc-history tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state'))),
    ['succeeded', 'succeeded'],
  );
  await section.screenshot({ path: join(screens, 'boss-registry-gc.png') });
});

test('a build project’s settings are edited in the console: checked before sending, the API’s field error on its field, the webhook secret shown once', async () => {
  const registryHost = new URL(region.endpoints.registry).host;
  await page.goto(`${base}/builds/web`);
  await tab(page, 'Settings');
  // The project: only the API knows the caller cannot push to apps/nope.
  const project = page.getByRole('form', { name: 'project settings' });
  assert.equal(await project.getByLabel('Default branch').inputValue(), 'main');
  await project.getByLabel('Image repository').fill('apps/nope');
  expectRefusal(400);
  await project.getByRole('button', { name: 'Save project' }).click();
  await project.locator('.field-error:has(input[name="imageRepository"]) .error').waitFor();
  await project.getByLabel('Image repository').fill('apps/web');
  await project.getByLabel('Dockerfile path').fill('build/Dockerfile');
  await project.getByRole('button', { name: 'Save project' }).click();
  await project.getByRole('status').waitFor();

  // The build settings: a bad timeout and cache path are refused before sending.
  const settings = page.getByRole('form', { name: 'build settings' });
  await settings.getByLabel('Compile before the image build').check();
  await settings.getByLabel('Builder image').fill(`${registryHost}/leengine/httpbox:1`);
  await settings.getByLabel('Command').fill('sh\n-c\necho compiled > /workspace/compiled');
  await settings.getByLabel('Cache path').fill('relative/cache');
  await settings.getByLabel('Timeout (seconds)').fill('5');
  await settings.getByRole('button', { name: 'Save build settings' }).click();
  await settings.locator('.field-error:has(input[name="compileCachePath"]) .error').waitFor();
  await settings.locator('.field-error:has(input[name="timeoutSeconds"]) .error').waitFor();
  await settings.getByLabel('Cache path').fill('/root/.cache');
  await settings.getByLabel('Timeout (seconds)').fill('900');
  await settings.getByLabel('Branch filters').fill('main\nrelease/*');
  await settings.getByLabel('Tag rule').selectOption('git-tag');
  await settings.getByRole('button', { name: 'Save build settings' }).click();
  await settings.getByRole('status').waitFor();

  // The GitLab webhook: its URL, and a secret shown once.
  const hook = page.getByRole('region', { name: 'GitLab webhook' });
  assert.equal(
    await hook.locator('[data-webhook-url]').textContent(),
    `${base}/api/v1/build-projects/web/webhooks/gitlab`,
  );
  await hook.getByRole('button', { name: 'Set webhook secret' }).click();
  const shown = page.getByRole('dialog', { name: 'Webhook secret' });
  assert.match((await shown.textContent()) ?? '', /it will not be shown again/);
  assert.ok((await shown.locator('input[data-secret]').inputValue()).length >= 20);
  await shown.getByRole('button', { name: 'I have copied it' }).click();
  await hook.getByText('A secret is set.').waitFor();

  // Saved on the platform: a fresh page shows what was sent.
  await page.reload();
  await tab(page, 'Settings');
  const again = page.getByRole('form', { name: 'build settings' });
  assert.equal(await again.getByLabel('Cache path').inputValue(), '/root/.cache');
  assert.equal(await again.getByLabel('Command').inputValue(), 'sh\n-c\necho compiled > /workspace/compiled');
  assert.equal(await again.getByLabel('Branch filters').inputValue(), 'main\nrelease/*');
  assert.equal(await again.getByLabel('Tag rule').inputValue(), 'git-tag');
  assert.equal(
    await page.getByRole('form', { name: 'project settings' }).getByLabel('Dockerfile path').inputValue(),
    'build/Dockerfile',
  );
  await shot(page, 'build-settings');
});

test('a robot of an image group is created in the console; the secret shown once gets a registry token, until the robot is deleted', async () => {
  // The registry's own challenge names the token service, as docker would read it.
  const challenge = (await fetch(`${region.endpoints.registry}/v2/`)).headers.get('www-authenticate') ?? '';
  const service = /service="([^"]+)"/.exec(challenge)?.[1];
  assert.ok(service, `the registry's challenge: ${challenge}`);
  const registryToken = (username: string, secret: string) =>
    fetch(`${base}/v2/token?service=${encodeURIComponent(service)}&scope=repository:apps/web:pull,push`, {
      headers: { authorization: `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}` },
    });

  await page.goto(`${base}/images/apps`);
  await tab(page, 'Robots');
  await page.getByText('No robot accounts yet.').waitFor();
  const form = page.getByRole('form', { name: 'new robot' });
  await form.getByLabel('Robot name').fill('Not OK');
  await form.getByRole('button', { name: 'New robot' }).click();
  await form.locator('.field-error:has(input[name="name"]) .error').waitFor();
  await form.getByLabel('Robot name').fill('ci');
  await form.getByLabel('push').check();
  await form.getByLabel('Expires in (days)').fill('7');
  await form.getByRole('button', { name: 'New robot' }).click();

  const dialog = page.getByRole('dialog', { name: 'Robot ci created' });
  assert.match((await dialog.textContent()) ?? '', /it will not be shown again/);
  const username = (await dialog.locator('[data-detail="Username"]').textContent()) ?? '';
  const secret = await dialog.locator('input[data-secret]').inputValue();
  assert.equal(username, 'robot$apps+ci');
  assert.match(secret, /^lee_robot_/);
  await dialog.getByRole('button', { name: 'I have copied it' }).click();
  await dialog.waitFor({ state: 'detached' });
  const row = page.locator('table.robots tr[data-robot="ci"]');
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /pull, push/);

  // The secret the dialog showed is the robot's: core's token service grants it pull and push.
  const granted = await registryToken(username, secret);
  assert.equal(granted.status, 200);
  const { token } = (await granted.json()) as { token: string };
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
    sub: string;
    access: { type: string; name: string; actions: string[] }[];
  };
  assert.equal(claims.sub, username);
  assert.deepEqual(
    claims.access.map((a) => [a.name, [...a.actions].sort()]),
    [['apps/web', ['pull', 'push']]],
  );
  assert.equal((await registryToken(username, `${secret}x`)).status, 401);

  await page.reload();
  await tab(page, 'Robots');
  await row.waitFor();
  assert.doesNotMatch((await row.locator('td').nth(4).textContent()) ?? '', /never/, 'last used is recorded');
  await shot(page, 'robots');

  await row.getByRole('button', { name: 'delete robot ci' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Delete robot ci?' });
  await confirm.getByRole('button', { name: 'Delete robot' }).click();
  await confirm.waitFor({ state: 'detached' });
  await page.getByText('No robot accounts yet.').waitFor();
  assert.equal((await registryToken(username, secret)).status, 401);
});

test('personal access tokens on the user’s page: created and shown once, it calls the API as the user; revoked, it is refused', async () => {
  await page.locator('header .user a').click();
  await page.waitForURL(/\/user$/);
  const form = page.getByRole('form', { name: 'new access token' });
  await form.getByLabel('Token name').fill('e2e script');
  await form.getByLabel('Expires in (days)').fill('400');
  await form.getByRole('button', { name: 'New token' }).click();
  await form.locator('.field-error:has(input[name="expiresInDays"]) .error').waitFor();
  await form.getByLabel('Expires in (days)').fill('7');
  await form.getByRole('button', { name: 'New token' }).click();

  const dialog = page.getByRole('dialog', { name: 'Token e2e script created' });
  assert.match((await dialog.textContent()) ?? '', /it will not be shown again/);
  const secret = await dialog.locator('input[data-secret]').inputValue();
  assert.match(secret, /^lee_pat_/);
  await dialog.getByRole('button', { name: 'I have copied it' }).click();
  const row = page.locator('table.tokens tr[data-token="e2e script"]');
  await row.waitFor();

  const me = () => fetch(`${base}/api/v1/user`, { headers: { authorization: `Bearer ${secret}` } });
  const answer = await me();
  assert.equal(answer.status, 200);
  assert.equal(((await answer.json()) as { username: string }).username, admin.username);
  await page.reload();
  await row.waitFor();
  assert.doesNotMatch((await row.locator('td').nth(3).textContent()) ?? '', /never/, 'last used is recorded');
  // The password form checks the repetition before sending anything.
  const password = page.getByRole('form', { name: 'change password' });
  await password.getByLabel('Current password').fill(admin.password);
  await password.getByLabel('New password', { exact: true }).fill('a-new-password-1');
  await password.getByLabel('Repeat the new password').fill('a-new-password-2');
  await password.getByRole('button', { name: 'Change password' }).click();
  await password.locator('.field-error:has(input[name="repeatPassword"]) .error').waitFor();
  await shot(page, 'user-tokens');

  await row.getByRole('button', { name: 'revoke token e2e script' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Revoke token e2e script?' });
  await confirm.getByRole('button', { name: 'Revoke token' }).click();
  await confirm.waitFor({ state: 'detached' });
  await row.waitFor({ state: 'detached' });
  assert.equal((await me()).status, 401);
});

test('a Reporter of the image group and the build project sees no robots and the build settings read-only', async () => {
  for (const where of ['/images/apps', '/builds/web']) await addMember(where, 'bob', 'reporter');
  await asBob(async (bob) => {
    await bob.goto(`${base}/images/apps`);
    await bob.getByRole('tab', { name: 'Members' }).waitFor();
    assert.equal(await bob.getByRole('tab', { name: 'Robots' }).count(), 0);
    await bob.goto(`${base}/builds/web`);
    await tab(bob, 'Settings');
    await bob.getByText('/root/.cache', { exact: false }).waitFor();
    assert.equal(await bob.getByRole('tab', { name: 'Robots' }).count(), 0);
    assert.equal(await bob.getByRole('form', { name: 'project settings' }).count(), 0);
    assert.equal(await bob.getByRole('form', { name: 'build settings' }).count(), 0);
    assert.equal(await bob.getByRole('button', { name: /webhook secret/ }).count(), 0);
  });
});
