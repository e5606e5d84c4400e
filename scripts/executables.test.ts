// Every executable entry point (each `bin` of a package.json and each file under
// packages/*/bin) must run under the project's pinned Node 24 even when only the
// system's Node 20 is on PATH, as when systemd, kubelet or containerd start it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  globSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const temp = mkdtempSync(join(tmpdir(), 'leengine-executables-'));
after(() => rmSync(temp, { recursive: true, force: true }));

/** The executable's path and how npm links it (`node_modules/.bin/<name>`), if it does. */
interface Executable {
  path: string;
  linked?: string;
}

function executables(): Executable[] {
  const found = new Map<string, Executable>();
  for (const manifest of ['package.json', ...globSync('packages/*/package.json', { cwd: root })]) {
    const json = JSON.parse(readFileSync(join(root, manifest), 'utf8')) as { bin?: Record<string, string> };
    for (const [name, target] of Object.entries(json.bin ?? {})) {
      const path = resolve(root, dirname(manifest), target);
      found.set(path, { path, linked: join(root, 'node_modules/.bin', name) });
    }
  }
  for (const dir of globSync('packages/*/bin', { cwd: root })) {
    for (const file of readdirSync(join(root, dir))) {
      const path = join(root, dir, file);
      if (!found.has(path)) found.set(path, { path });
    }
  }
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** The cheapest honest call of each executable: its usage, or the CNI VERSION command. */
function invocation(name: string): { args: string[]; env?: Record<string, string>; input?: string } {
  if (name === 'leengine-cni')
    return {
      args: [],
      env: { CNI_COMMAND: 'VERSION' },
      input: '{"cniVersion":"1.0.0","name":"t","type":"leengine-cni"}',
    };
  return { args: ['--help'] };
}

test('every executable entry point is a bash wrapper that runs its code under the pinned Node 24, not the Node on PATH', () => {
  const all = executables();
  assert.ok(all.length >= 6, `found only ${all.map((e) => e.path).join(', ')}`);
  assert.match(
    spawnSync('node', ['--version'], { env: { PATH: '/usr/bin:/bin' } }).stdout?.toString() ?? '',
    /^v20\./,
    'the check assumes the system Node on /usr/bin is not Node 24',
  );
  for (const { path, linked } of all) {
    const name = basename(path);
    assert.doesNotMatch(
      path,
      /\.ts$/,
      `${path}: a .ts file as an executable runs under whatever node is on PATH`,
    );
    assert.equal(readFileSync(path, 'utf8').split('\n')[0], '#!/usr/bin/env bash', `${path}: first line`);
    if (linked) assert.equal(realpathSync(linked), path, `${linked} is npm's link to ${path}`);
    const { args, env, input } = invocation(name);
    // stdin from a file, not Node's default socket pair: with a socket on stdin, bash
    // reads ~/.bashrc, which could change PATH.
    const inputFile = join(temp, `${name}.stdin`);
    writeFileSync(inputFile, input ?? '');
    const stdin = openSync(inputFile, 'r');
    const run = spawnSync(linked ?? path, args, {
      cwd: '/',
      stdio: [stdin, 'pipe', 'pipe'],
      encoding: 'utf8',
      env: {
        PATH: '/usr/bin:/bin',
        // Prints the version of the Node that loads the entry point, before the program runs.
        NODE_OPTIONS: `--import=data:text/javascript,process.stderr.write('runtime='+process.version+'\\n')`,
        ...env,
      },
    });
    closeSync(stdin);
    assert.equal(run.status, 0, `${name} exited ${run.status ?? run.signal}:\n${run.stderr}`);
    assert.match(run.stderr, /^runtime=v24\./m, `${name} runs under:\n${run.stderr}`);
    assert.match(
      run.stdout,
      name === 'leengine-cni' ? /"supportedVersions"/ : /usage/,
      `${name} printed:\n${run.stdout}`,
    );
  }
});
