// tools/kube/build.sh's failures: no Go, and a module build that fails. Both run on a
// copy of tools/kube with a temp cache, so the real cache is never touched and no
// Kubernetes component is compiled.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const TOOLS_KUBE = new URL('../../../../tools/kube', import.meta.url).pathname;
const base = mkdtempSync(join(tmpdir(), 'leengine-kubebuild-'));
after(() => rmSync(base, { recursive: true, force: true }));

// stdin is /dev/null: bash reads ~/.bashrc (which may put go on PATH) when stdin is a
// socket, as Node's default pipes are.
function buildSh(dir: string, env: Record<string, string>) {
  return spawnSync('bash', [join(dir, 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { HOME: process.env.HOME ?? '/root', ...env },
    timeout: 120_000,
  });
}

test('without go on PATH, build.sh fails with an error naming Go and caches nothing', () => {
  const path = '/usr/bin:/bin';
  const which = spawnSync('bash', ['-c', 'command -v go'], { env: { PATH: path }, stdio: 'ignore' });
  assert.notEqual(which.status, 0, `the test needs a PATH without go (${path})`);
  const cache = join(base, 'nogo-cache');
  const run = buildSh(TOOLS_KUBE, { PATH: path, LEENGINE_CACHE: cache });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /build\.sh: error: 'go' not found in PATH; Go >= 1\.22 is needed/);
  assert.equal(run.stdout, '', 'no bin dir is printed');
  assert.equal(existsSync(join(cache, 'kube')), false, 'nothing is cached');
});

test('a failed module build names the component, shows the tail of its go build output, keeps the log and caches nothing', () => {
  // A copy of the module that requires a k8s.io/kubernetes release go.sum knows nothing
  // of; GOPROXY=off keeps go from asking the proxy, so it fails at once.
  const dir = join(base, 'module');
  cpSync(TOOLS_KUBE, dir, { recursive: true });
  const goMod = join(dir, 'go.mod');
  const text = readFileSync(goMod, 'utf8');
  assert.match(text, /^require k8s\.io\/kubernetes v1\.\d+\.\d+$/m);
  writeFileSync(
    goMod,
    text.replace(/^require k8s\.io\/kubernetes v1\.(\d+)\.\d+$/m, 'require k8s.io/kubernetes v1.$1.999'),
  );
  const cache = join(base, 'failed-cache');
  const started = performance.now();
  const run = buildSh(dir, {
    PATH: process.env.PATH ?? '',
    LEENGINE_CACHE: cache,
    GOPROXY: 'off',
    GOFLAGS: '',
  });
  assert.equal(run.status, 1, run.stderr);
  // The progress ticker's `sleep 60` once kept stderr open for a minute after the exit.
  assert.ok(performance.now() - started < 30_000, 'build.sh returns at once, holding no pipe open');
  assert.match(
    run.stderr,
    /---- last lines of go build output for kube-apiserver ----\n.*k8s\.io\/kubernetes.*\n----\n/s,
  );
  assert.match(
    run.stderr,
    /build\.sh: error: building kube-apiserver failed \(exit 1\) after \d+s; full log: \S+\/kube\/build-kube-apiserver\.log/,
  );
  assert.equal(run.stdout, '', 'no bin dir is printed');
  const log = readFileSync(join(cache, 'kube', 'build-kube-apiserver.log'), 'utf8');
  assert.match(log, /k8s\.io\/kubernetes/);
  assert.deepEqual(
    readdirSync(join(cache, 'kube')).filter((f) => f !== '.lock' && f !== 'build-kube-apiserver.log'),
    [],
    'no version dir and no temp build dir is left',
  );
});
