import { after, afterEach } from 'node:test';
import { Testbed } from './testbed.ts';

/**
 * A Testbed for one test file: its components stop after the file's tests, and when a
 * test fails their log tails are printed with the failure.
 */
export function useTestbed(): Testbed {
  const testbed = new Testbed();
  afterEach((t) => {
    // `passed` is set by Node's runner (>= 21) but missing from @types/node's TestContext.
    const passed = (t as { passed?: boolean }).passed;
    if (passed === false && testbed.components.length > 0) {
      process.stderr.write(`\ncomponent logs for failed test "${t.name}":\n${testbed.logs()}\n`);
    }
  });
  after(() => testbed.stop());
  return testbed;
}
