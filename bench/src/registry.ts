// bench/registry: leengine-core as its own process on PostgreSQL (testbed) issuing
// registry tokens, and Debian's docker-registry 2.8 with and without core's token auth.
//   token_rate / token_p50 / token_p99   GET /v2/token (Basic user:personal-access-token,
//                                         scope pull,push on a private repository) with 50
//                                         requests in flight, keep-alive
//   token_password_rate                   the same with the user's password (scrypt per request)
//   push_auth_ms / push_noauth_ms         skopeo copy of a 50 MB image (one incompressible layer,
//                                         already compressed on disk) into a fresh registry
//   pull_auth_ms / pull_noauth_ms         skopeo copy of it back to a fresh dir
//   auth_overhead_ratio                   (push + pull with auth) / (push + pull without), medians
//   gc_dry_run_ms                         garbage-collect --dry-run on the registry of the GC test
//                                         (busybox base, two images with 400/300 kB layers of their
//                                         own, one deleted): what the report costs
//   gc_collect_ms                         garbage-collect itself, the registry read-only
//   gc_restart_ms                         one restart (read-only or read-write) until /v2/ answers:
//                                         connections are refused for about this long, pulls too
//   gc_push_refused                       from the read-only restart's start until read-write
//                                         answers again: two restarts and the collection
//   gc_scale_*                            the same on a bigger registry: 500 repositories (100
//                                         with --quick), each with two images (a shared 1 MiB base
//                                         layer, a 16 kB layer and a config of their own), pushed
//                                         through the registry API; v1 of each deleted
// --tokens-only: the token figures alone (no image pushes); --gc-only: the GC figures alone
// (no core); CORE_NODE_OPTIONS: node options
// for core's process (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof to profile the token endpoint).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLIENT_HEADER, hashPassword, openDatabase } from '@leengine/core';
import { Buildah, findBinary, freePorts, type ManagedProcess, makeWorkDir, Testbed } from '@leengine/testbed';
import { keepAliveClient, startCoreProcess } from './coreProcess.ts';
import { figure, isQuick, quantile } from './stats.ts';

const quick = isQuick();
const tokensOnly = process.argv.includes('--tokens-only');
const gcOnly = process.argv.includes('--gc-only');
const run = promisify(execFile);
const CONCURRENCY = 50;
const TOKENS = quick ? 2000 : 20_000;
const PASSWORD_TOKENS = quick ? 100 : 400;
const ROUNDS = quick ? 1 : 3;
const IMAGE_MB = 50;
const PASSWORD = 'bench password 1234';
const SERVICE = 'leengine-registry';

const { call, destroy } = keepAliveClient(CONCURRENCY);

/** `count` token requests, `concurrency` in flight; latencies in ms and the wall time. */
async function tokenLoad(port: number, basic: string, count: number, concurrency: number) {
  const path = `/v2/token?service=${SERVICE}&scope=repository:bench/app:pull,push`;
  const headers = { authorization: `Basic ${Buffer.from(basic).toString('base64')}` };
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        const t = performance.now();
        const answer = await call(port, 'GET', path, headers);
        latencies.push(performance.now() - t);
        if (answer.status !== 200) throw new Error(`token: ${answer.status} ${answer.body.slice(0, 200)}`);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

async function skopeo(args: string[]): Promise<number> {
  const t = performance.now();
  await run(findBinary('skopeo', 'skopeo'), args, { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  return performance.now() - t;
}

const median = (xs: number[]) => quantile(xs, 0.5);

const testbed = new Testbed();
const workDir = makeWorkDir('bench-registry');
let core: ManagedProcess | undefined;
try {
  if (gcOnly) await gcFigures();
  else await coreFigures();
} finally {
  destroy();
  await core?.stop().catch(() => {});
  await testbed.stop();
  workDir.remove();
}

/** Core as its own process on PostgreSQL: token figures, then images and GC. */
async function coreFigures(): Promise<void> {
  const postgres = await testbed.postgres();
  const url = await postgres.createDatabase('bench_registry');
  const [port] = (await freePorts(1)) as [number];
  const keyDir = join(workDir.path, 'registry-token');
  const secret = randomBytes(24).toString('hex');
  // Core knows the registry it reads from only for tags; tokens need no registry URL.
  core = await startCoreProcess({
    port,
    dir: workDir.path,
    env: { DATABASE_URL: url, REGISTRY_TOKEN_KEY_DIR: keyDir, REGISTRY_NOTIFICATION_SECRET: secret },
    nodeOptions: process.env.CORE_NODE_OPTIONS?.split(' ').filter(Boolean),
  });

  // One user who owns group "bench" and its private repository "bench/app".
  const db = await openDatabase({ url, dataDir: 'unused' });
  await db.query(
    `insert into users (username, display_name, password_hash, created_at, updated_at)
     values ('bench', 'Bench', $1, now(), now())`,
    [await hashPassword(PASSWORD)],
  );
  await db.close();
  const session = await call(
    port,
    'POST',
    '/api/v1/session',
    { [CLIENT_HEADER]: 'bench' },
    JSON.stringify({ username: 'bench', password: PASSWORD }),
  );
  if (session.status !== 200) throw new Error(`login: ${session.status} ${session.body}`);
  const cookie = String(session.headers['set-cookie']).split(';')[0] ?? '';
  const asUser = { cookie, [CLIENT_HEADER]: 'bench' };
  const pat = JSON.parse(
    (await call(port, 'POST', '/api/v1/user/tokens', asUser, JSON.stringify({ name: 'bench' }))).body,
  ) as { token: string };
  for (const [path, body] of [
    ['/api/v1/image-groups', { name: 'bench' }],
    ['/api/v1/image-groups/bench/repositories', { name: 'app' }],
  ] as const) {
    const made = await call(port, 'POST', path, asUser, JSON.stringify(body));
    if (made.status !== 201) throw new Error(`${path}: ${made.status} ${made.body}`);
  }

  // ---- token issuance
  await tokenLoad(port, `bench:${pat.token}`, quick ? 300 : 2000, CONCURRENCY); // warm-up
  const tokens = await tokenLoad(port, `bench:${pat.token}`, TOKENS, CONCURRENCY);
  figure('token_rate', Math.round(TOKENS / tokens.seconds), 'tokens/s');
  figure('token_p50', quantile(tokens.latencies, 0.5), 'ms');
  figure('token_p99', quantile(tokens.latencies, 0.99), 'ms');
  const byPassword = await tokenLoad(port, `bench:${PASSWORD}`, PASSWORD_TOKENS, CONCURRENCY);
  figure('token_password_rate', Math.round(PASSWORD_TOKENS / byPassword.seconds), 'tokens/s');

  if (!tokensOnly) {
    await imageFigures(port, keyDir, pat.token);
    await gcFigures();
  }
}

/** Push and pull of a 50 MB image with and without auth. */
async function imageFigures(port: number, keyDir: string, token: string): Promise<void> {
  // ---- a 50 MB image: one incompressible layer, compressed once into an OCI layout on disk.
  const buildah = Buildah.create({ dir: join(workDir.path, 'buildah') });
  await buildah.busyboxImage('localhost/bench-base:1');
  const big = join(workDir.path, 'big.bin');
  writeFileSync(big, randomBytes(IMAGE_MB * 1024 * 1024));
  const c = await buildah.run(['from', '--pull-never', 'localhost/bench-base:1']);
  await buildah.run(['copy', c, big, '/big.bin']);
  await buildah.run(['commit', '--quiet', c, 'localhost/bench-big:1']);
  const layout = join(workDir.path, 'image');
  await buildah.run(['push', 'localhost/bench-big:1', `oci:${layout}:big`]);
  buildah.remove();
  rmSync(big);

  const push: Record<'auth' | 'noauth', number[]> = { auth: [], noauth: [] };
  const pull: Record<'auth' | 'noauth', number[]> = { auth: [], noauth: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Fresh registries each round: no blob is already there, none can be mounted.
    const order = round % 2 === 0 ? (['auth', 'noauth'] as const) : (['noauth', 'auth'] as const);
    for (const kind of order) {
      const registry = await testbed.registry(
        kind === 'auth'
          ? {
              auth: {
                realm: `http://127.0.0.1:${port}/v2/token`,
                service: SERVICE,
                issuer: 'leengine-core',
                rootCertBundle: join(keyDir, 'cert.pem'),
              },
            }
          : {},
      );
      const creds = kind === 'auth' ? [`--dest-creds=bench:${token}`] : [];
      push[kind].push(
        await skopeo([
          'copy',
          '--dest-tls-verify=false',
          ...creds,
          `oci:${layout}:big`,
          `docker://${registry.host}/bench/app:r${round}`,
        ]),
      );
      const target = join(workDir.path, `pulled-${kind}-${round}`);
      mkdirSync(target);
      pull[kind].push(
        await skopeo([
          'copy',
          '--src-tls-verify=false',
          ...(kind === 'auth' ? [`--src-creds=bench:${token}`] : []),
          `docker://${registry.host}/bench/app:r${round}`,
          `dir:${target}`,
        ]),
      );
      rmSync(target, { recursive: true, force: true });
      await registry.stop();
    }
  }
  figure('push_auth_ms', Math.round(median(push.auth)), 'ms');
  figure('push_noauth_ms', Math.round(median(push.noauth)), 'ms');
  figure('pull_auth_ms', Math.round(median(pull.auth)), 'ms');
  figure('pull_noauth_ms', Math.round(median(pull.noauth)), 'ms');
  figure(
    'auth_overhead_ratio',
    (median(push.auth) + median(pull.auth)) / (median(push.noauth) + median(pull.noauth)),
    'x',
  );
}

/**
 * Garbage collection as core drives it (testbed's registry handle: read-only restart,
 * garbage-collect, read-write restart) on the GC test's sizes, fresh registry each round.
 */
async function gcFigures(): Promise<void> {
  const buildah = Buildah.create({ dir: join(workDir.path, 'gc-buildah') });
  await buildah.busyboxImage('localhost/gc-base:1');
  for (const [name, bytes] of [
    ['one', 400_000],
    ['two', 300_000],
  ] as const) {
    const c = await buildah.run(['from', '--pull-never', 'localhost/gc-base:1']);
    const file = join(workDir.path, `${name}.bin`);
    writeFileSync(file, randomBytes(bytes));
    await buildah.run(['add', c, file, `/${name}.bin`]);
    await buildah.run(['commit', '--quiet', c, `localhost/gc-${name}:1`]);
  }
  const figures: Record<'dry' | 'collect' | 'restart' | 'refused', number[]> = {
    dry: [],
    collect: [],
    restart: [],
    refused: [],
  };
  for (let round = 0; round < Math.max(ROUNDS, 3); round++) {
    const registry = await testbed.registry();
    await buildah.push('localhost/gc-one:1', `${registry.host}/gc/one:v1`);
    await buildah.push('localhost/gc-two:1', `${registry.host}/gc/two:v1`);
    const head = await fetch(`${registry.url}/v2/gc/two/manifests/v1`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const digest = head.headers.get('docker-content-digest');
    const deleted = await fetch(`${registry.url}/v2/gc/two/manifests/${digest}`, { method: 'DELETE' });
    if (deleted.status !== 202) throw new Error(`deleting gc/two: ${deleted.status}`);
    figures.dry.push((await registry.garbageCollect({ dryRun: true })).durationMs);
    const from = performance.now();
    await registry.setReadOnly(true);
    figures.restart.push(performance.now() - from);
    const collected = await registry.garbageCollect({ dryRun: false });
    if (collected.blobs.length !== 3) throw new Error(`expected 3 blobs collected: ${collected.output}`);
    figures.collect.push(collected.durationMs);
    const back = performance.now();
    await registry.setReadOnly(false);
    figures.restart.push(performance.now() - back);
    figures.refused.push(performance.now() - from);
    await registry.stop();
  }
  buildah.remove();
  figure('gc_dry_run_ms', Math.round(median(figures.dry)), 'ms');
  figure('gc_collect_ms', Math.round(median(figures.collect)), 'ms');
  figure('gc_restart_ms', Math.round(median(figures.restart)), 'ms');
  figure('gc_push_refused', Math.round(median(figures.refused)), 'ms');
  await gcScaleFigures(quick ? 100 : 500);
}

/** Collection on a registry with `repositories` repositories of two images each, one deleted. */
async function gcScaleFigures(repositories: number): Promise<void> {
  const registry = await testbed.registry();
  const sha = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const upload = async (repository: string, data: Buffer): Promise<string> => {
    const digest = sha(data);
    const started = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    await started.arrayBuffer();
    const location = new URL(started.headers.get('location') as string, registry.url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(data),
    });
    await put.arrayBuffer();
    if (put.status !== 201) throw new Error(`blob upload to ${repository}: ${put.status}`);
    return digest;
  };
  const base = randomBytes(1024 * 1024);
  const push = async (repository: string, tag: string): Promise<string> => {
    const layer = randomBytes(16 * 1024);
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: { repository, tag } },
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    );
    const blobs = [await upload(repository, base), await upload(repository, layer)];
    const configDigest = await upload(repository, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: configDigest,
          size: config.length,
        },
        layers: blobs.map((digest, i) => ({
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest,
          size: i === 0 ? base.length : layer.length,
        })),
      }),
    );
    const put = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: new Uint8Array(manifest),
    });
    await put.arrayBuffer();
    if (put.status !== 201) throw new Error(`manifest put ${repository}:${tag}: ${put.status}`);
    return sha(manifest);
  };
  const deleted: { repository: string; digest: string }[] = [];
  const names = Array.from({ length: repositories }, (_, i) => `scale/r${i}`);
  for (let i = 0; i < names.length; i += 8) {
    await Promise.all(
      names.slice(i, i + 8).map(async (repository) => {
        deleted.push({ repository, digest: await push(repository, 'v1') });
        await push(repository, 'v2');
      }),
    );
  }
  for (const { repository, digest } of deleted) {
    const response = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, {
      method: 'DELETE',
    });
    await response.arrayBuffer();
    if (response.status !== 202) throw new Error(`deleting ${repository}@${digest}: ${response.status}`);
  }
  const dry = await registry.garbageCollect({ dryRun: true });
  const from = performance.now();
  await registry.setReadOnly(true);
  const readOnlyMs = performance.now() - from;
  const collected = await registry.garbageCollect({ dryRun: false });
  const back = performance.now();
  await registry.setReadOnly(false);
  const readWriteMs = performance.now() - back;
  const refused = performance.now() - from;
  if (collected.blobs.length !== repositories * 3) {
    throw new Error(`expected ${repositories * 3} blobs collected, got ${collected.blobs.length}`);
  }
  await registry.stop();
  figure('gc_scale_repositories', repositories, 'repositories');
  figure('gc_scale_blobs', collected.markedBlobs + collected.blobs.length, 'blobs');
  figure('gc_scale_dry_run_ms', dry.durationMs, 'ms');
  figure('gc_scale_collect_ms', collected.durationMs, 'ms');
  figure('gc_scale_restart_ms', Math.round((readOnlyMs + readWriteMs) / 2), 'ms');
  figure('gc_scale_push_refused', Math.round(refused), 'ms');
}
