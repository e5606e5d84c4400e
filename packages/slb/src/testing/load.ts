import { Agent, request } from 'node:http';

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  /** Failure reasons (status or error message) with their counts. */
  failures: Record<string, number>;
  /** Bodies of successful answers with their counts (httpbox answers its pod name). */
  bodies: Record<string, number>;
  seconds: number;
}

/**
 * A steady, bounded request stream: `total` requests at `rate` per second to
 * 127.0.0.1:`port` with a Host header, on keep-alive connections. Stops early when
 * `signal` aborts, but not before `minimum` requests were sent (so a stream that must
 * span some operations and count at least so many requests is stopped once both hold).
 * Never more than `maxInFlight` requests open at once.
 */
export async function steadyLoad(options: {
  port: number;
  host: string;
  rate: number;
  total: number;
  path?: string;
  maxInFlight?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  minimum?: number;
  /** Called with each successful answer's body (trimmed) as it arrives. */
  onAnswer?: (body: string, at: number) => void;
}): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxInFlight ?? 64 });
  const result: LoadResult = { sent: 0, ok: 0, failed: 0, failures: {}, bodies: {}, seconds: 0 };
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  const fail = (reason: string) => {
    result.failed++;
    result.failures[reason] = (result.failures[reason] ?? 0) + 1;
  };
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: options.port,
          path: options.path ?? '/',
          agent,
          headers: { host: options.host },
          timeout: options.timeoutMs ?? 5000,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => {
            if (res.statusCode === 200) {
              result.ok++;
              options.onAnswer?.(body.trim(), performance.now());
              const key = body.trim().slice(0, 100);
              result.bodies[key] = (result.bodies[key] ?? 0) + 1;
            } else fail(`status ${res.statusCode}`);
            resolve();
          });
          res.on('error', (e) => {
            fail(e.message);
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        fail(e.message);
        resolve();
      });
      req.end();
    });
  const interval = 1000 / options.rate;
  const minimum = Math.min(options.minimum ?? 0, options.total);
  while (result.sent < options.total && (!options.signal?.aborted || result.sent < minimum)) {
    const due = started + result.sent * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight.size >= (options.maxInFlight ?? 64)) {
      await Promise.race(inFlight);
      continue;
    }
    result.sent++;
    const p = one().finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  agent.destroy();
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
