/** What the benchmarks that drive leengine-core as its own process share. */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { ManagedProcess, waitUntilReady } from '@leengine/testbed';

const root = join(import.meta.dirname, '..', '..');

export interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export type Call = (
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
) => Promise<Answer>;

/**
 * HTTP calls to 127.0.0.1 over at most `maxSockets` keep-alive connections (node:http,
 * not fetch: fewer allocations per request, so the client costs less of what is measured).
 */
export function keepAliveClient(maxSockets: number): { call: Call; destroy: () => void } {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const call: Call = (port, method, path, headers, body) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent,
          headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              headers: res.headers,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { call, destroy: () => agent.destroy() };
}

export interface CoreProcessOptions {
  port: number;
  /** Where core's log goes (`core.log`). */
  dir: string;
  /** Core's settings on top of this process's environment (DATABASE_URL, ...). */
  env: Record<string, string>;
  /** Node options for core's process (e.g. --cpu-prof). */
  nodeOptions?: string[];
}

/**
 * Starts `packages/core/src/main.ts` as its own process with LOG_LEVEL=warn (no
 * per-request log lines: they would be measured too), ready once GET /readyz answers 200.
 */
export async function startCoreProcess(options: CoreProcessOptions): Promise<ManagedProcess> {
  const core = ManagedProcess.start({
    component: 'leengine-core',
    argv: [process.execPath, ...(options.nodeOptions ?? []), join(root, 'packages/core/src/main.ts')],
    cwd: root,
    logFile: join(options.dir, 'core.log'),
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env, LEENGINE_PORT: String(options.port) },
  });
  const { call, destroy } = keepAliveClient(1);
  try {
    await waitUntilReady(core, async () => (await call(options.port, 'GET', '/readyz', {})).status === 200, {
      timeoutMs: 60_000,
      what: `GET /readyz on 127.0.0.1:${options.port}`,
    });
  } catch (error) {
    await core.stop().catch(() => {});
    throw error;
  } finally {
    destroy();
  }
  return core;
}
