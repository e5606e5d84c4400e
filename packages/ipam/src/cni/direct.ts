// leengine-cni run directly: one process per CNI call (the wrapper's fallback when no
// agent answers). Reads the config on stdin and CNI_* from the environment, prints the
// result or the spec's error JSON, exits 0 or 1.
import { hostname } from 'node:os';
import { text } from 'node:stream/consumers';
import { CniCode, CniError } from './cniError.ts';
import { answerVersion } from './config.ts';
import { EtcdClients } from './etcdClients.ts';
import { runCni } from './plugin.ts';

const TIMEOUT_MS = 60_000;

const stdin = await text(process.stdin);
const clients = new EtcdClients();
const timeout = AbortSignal.timeout(TIMEOUT_MS);
const response = await Promise.race([
  runCni({ env: process.env, stdin }, { ipamFor: (conf) => clients.ipamFor(conf), hostname: hostname() }),
  new Promise<never>((_, reject) =>
    timeout.addEventListener('abort', () =>
      reject(new CniError(CniCode.tryAgainLater, `no answer within ${TIMEOUT_MS / 1000} s (etcd down?)`)),
    ),
  ),
]).catch((error: CniError) => ({
  exitCode: 1,
  stdout: `${JSON.stringify(error.toJson(answerVersion(stdin)))}\n`,
}));
// Writes to a pipe are synchronous on Linux, so exiting right away loses nothing.
process.stdout.write(response.stdout);
clients.close();
process.exit(response.exitCode);
