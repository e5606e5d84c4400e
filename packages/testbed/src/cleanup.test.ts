import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './procfs.ts';

const fixture = new URL('./testdata/holdComponents.ts', import.meta.url).pathname;

interface Started {
  pids: number[];
  dirs: string[];
}

async function startHolder(how: string) {
  // stderr is kept, not shown: the crashing variant prints its (expected) stack there.
  const child = spawn(process.execPath, [fixture, how], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for await (const line of lines) {
    return { child, exited, started: JSON.parse(line) as Started };
  }
  throw new Error(`the fixture exited before starting its components (exit ${await exited}): ${stderr}`);
}

async function assertAllGone(started: Started): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (!started.pids.some(isAlive) && !started.dirs.some(existsSync)) return;
    await sleep(100);
  }
  assert.deepEqual(started.pids.filter(isAlive), [], 'component processes outlived the test process');
  assert.deepEqual(started.dirs.filter(existsSync), [], 'component temp dirs outlived the test process');
}

for (const [how, end] of [
  ['killed with SIGKILL', 'hold'],
  ['interrupted with SIGINT (Ctrl-C)', 'hold'],
  ['exiting without stopping its components', 'exit'],
  ['crashing with an uncaught exception', 'throw'],
] as const) {
  test(`no component process or temp dir survives a test process ${how}`, async () => {
    const { child, exited, started } = await startHolder(end);
    try {
      // etcd, nginx master + 2 workers, postgres (+ background workers once forked), registry.
      assert.ok(started.pids.length >= 6, `expected whole process trees, got ${started.pids.length} pids`);
      if (how.includes('SIGKILL')) child.kill('SIGKILL');
      if (how.includes('SIGINT')) child.kill('SIGINT');
      const code = await exited;
      if (how.includes('SIGINT')) assert.equal(code, 130, 'Ctrl-C stops the components, then exits 130');
      await assertAllGone(started);
    } finally {
      child.kill('SIGKILL');
    }
  });
}
