// Starts components, prints their process trees and dirs as one JSON line, then ends
// the way argv[2] says, so cleanup.test.ts can check nothing outlives it.
import { processTree } from '../procfs.ts';
import { Testbed } from '../testbed.ts';

const how = process.argv[2] ?? 'hold';
const testbed = new Testbed();
await Promise.all([
  testbed.etcd(),
  testbed.nginx({ workerProcesses: 2 }),
  testbed.postgres(),
  testbed.registry(),
]);
const pids = testbed.components.flatMap((c) => processTree(c.process.pid));
const dirs = testbed.components.map((c) => c.dir);
process.stdout.write(`${JSON.stringify({ pids, dirs })}\n`);

if (how === 'exit') process.exit(0);
if (how === 'throw') throw new Error('the test process crashed');
setInterval(() => {}, 1000);
