// The whole test suite: type check, lint, layer rule, then every *.test.ts under
// Node's test runner (real components are started by the tests through testbed).
//   node scripts/test.ts                  everything
//   node scripts/test.ts packages/core    only the tests under these paths
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const paths = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const bin = (name: string) => resolve(root, 'node_modules/.bin', name);

function step(title: string, file: string, args: string[]): void {
  console.log(`\n== ${title}`);
  const run = spawnSync(file, args, { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`\n${title}: failed (exit ${run.status ?? run.signal})`);
    process.exit(run.status ?? 1);
  }
}

if (paths.length === 0) {
  step('type check (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', '.']);
  step('type check of the console (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', 'packages/console']);
  step('lint and format (biome)', bin('biome'), ['check', '.']);
  step('layer rule', process.execPath, ['scripts/checkLayers.ts']);
}

const patterns = (paths.length ? paths : ['packages', 'scripts']).map(
  (p) => `${p.replace(/\/$/, '')}/**/*.test.ts`,
);
const files = patterns
  .flatMap((p) => globSync(p, { cwd: root, exclude: (f) => f.includes('node_modules') }))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${patterns.join(', ')}`);
  process.exit(1);
}
step(`tests (${files.length} files)`, process.execPath, [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=600000',
  ...files,
]);
