import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { CniCode, CniError } from '../cni/cniError.ts';
import { answerVersion } from '../cni/config.ts';
import { EtcdClients } from '../cni/etcdClients.ts';
import { type CniResponse, runCni } from '../cni/plugin.ts';

export interface AgentOptions {
  /** Loopback TCP port to listen on (0: any free port; see `port`). */
  port: number;
  /** Where to write the token callers must send (made 0600: only root may ask for addresses). */
  tokenFile?: string;
  log: Logger;
  /** Node name for configs that name none (default: the host name). */
  hostname?: string;
  timeoutMs?: number;
}

/** The default token file for an agent port (the wrapper looks there unless the config says otherwise). */
export function defaultTokenFile(port: number): string {
  return `/run/leengine/ipam-agent-${port}.token`;
}

/** The CNI_* variables the wrapper sends as `X-CNI-*` headers. */
const ENV_HEADERS = [
  'CNI_COMMAND',
  'CNI_CONTAINERID',
  'CNI_NETNS',
  'CNI_IFNAME',
  'CNI_ARGS',
  'CNI_PATH',
] as const;

/**
 * The per-node agent behind leengine-cni: a long-lived process that holds the etcd
 * connections and the node's block state, and runs CNI calls that the wrapper sends
 * over loopback TCP (`POST /cni`, CNI_* as `X-CNI-*` headers, the config as the body,
 * the token from the 0600 token file in `X-Leengine-Token`). Bash can speak this with
 * no helper process at all. It answers 200 with the result, or 500 with the spec's
 * error JSON.
 */
export class IpamAgent implements AsyncDisposable {
  readonly port: number;
  readonly tokenFile: string;
  readonly #server: Server;
  readonly #clients = new EtcdClients();
  readonly #log: Logger;
  #closed: Promise<void> | undefined;

  private constructor(port: number, tokenFile: string, server: Server, log: Logger) {
    this.port = port;
    this.tokenFile = tokenFile;
    this.#server = server;
    this.#log = log;
  }

  static async start(options: AgentOptions): Promise<IpamAgent> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const tokenFile = options.tokenFile ?? defaultTokenFile(port);
    const token = randomBytes(32).toString('hex');
    mkdirSync(dirname(tokenFile), { recursive: true, mode: 0o755 });
    rmSync(tokenFile, { force: true });
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' });
    const expected = Buffer.from(token);
    const agent = new IpamAgent(port, tokenFile, server, options.log);
    const host = options.hostname ?? hostname();
    const timeoutMs = options.timeoutMs ?? 60_000;
    server.on('request', (req, res) => {
      if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      if (req.method !== 'POST' || req.url !== '/cni') {
        res.writeHead(404).end();
        return;
      }
      const given = Buffer.from(String(req.headers['x-leengine-token'] ?? ''));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        req.resume();
        const error = new CniError(
          CniCode.tryAgainLater,
          `the IPAM agent refused the call: wrong token (see ${tokenFile})`,
        );
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(`${JSON.stringify(error.toJson('1.0.0'))}\n`);
        return;
      }
      void agent.#handle(req, host, timeoutMs).then((response) => {
        res
          .writeHead(response.exitCode === 0 ? 200 : 500, {
            'content-type': 'application/json',
            'x-cni-exit-code': String(response.exitCode),
          })
          .end(response.stdout);
      });
    });
    options.log.info({ port, tokenFile, node: host }, 'ipam agent listening');
    return agent;
  }

  async #handle(req: IncomingMessage, host: string, timeoutMs: number): Promise<CniResponse> {
    const started = performance.now();
    const env: Record<string, string | undefined> = {};
    for (const name of ENV_HEADERS) {
      const value = req.headers[`x-${name.toLowerCase().replaceAll('_', '-')}`];
      if (typeof value === 'string') env[name] = value;
    }
    let stdin = '';
    for await (const chunk of req) stdin += chunk;
    let timer: NodeJS.Timeout | undefined;
    const response = await Promise.race([
      runCni({ env, stdin }, { ipamFor: (conf) => this.#clients.ipamFor(conf), hostname: host }),
      new Promise<CniResponse>((resolve) => {
        timer = setTimeout(() => {
          const error = new CniError(
            CniCode.tryAgainLater,
            `no answer within ${timeoutMs / 1000} s (etcd down?)`,
          );
          resolve({ exitCode: 1, stdout: `${JSON.stringify(error.toJson(answerVersion(stdin)))}\n` });
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    const entry = {
      op: env.CNI_COMMAND,
      containerId: env.CNI_CONTAINERID,
      ifname: env.CNI_IFNAME,
      ms: Math.round((performance.now() - started) * 10) / 10,
      exitCode: response.exitCode,
    };
    if (response.exitCode === 0) this.#log.info(entry, 'cni call');
    else this.#log.warn({ ...entry, error: response.stdout.trim() }, 'cni call failed');
    return response;
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    }).then(() => {
      this.#clients.close();
      rmSync(this.tokenFile, { force: true });
    });
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
