import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { CniCode, CniError } from '../cni/cniError.ts';
import { answerVersion } from '../cni/config.ts';
import { EtcdClients } from '../cni/etcdClients.ts';
import { type CniResponse, runCni } from '../cni/plugin.ts';

export interface AgentOptions {
  /** Unix socket to listen on (made 0600: only root may ask for addresses). */
  socket: string;
  log: Logger;
  /** Node name for configs that name none (default: the host name). */
  hostname?: string;
  timeoutMs?: number;
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
 * connections and runs CNI calls sent by the thin wrapper over a unix socket
 * (`POST /cni`, CNI_* as `X-CNI-*` headers, the config as the body). It answers 200
 * with the result, or 500 with the spec's error JSON.
 */
export class IpamAgent implements AsyncDisposable {
  readonly socket: string;
  readonly #server: Server;
  readonly #clients = new EtcdClients();
  readonly #log: Logger;
  #closed: Promise<void> | undefined;

  private constructor(options: AgentOptions, server: Server) {
    this.socket = options.socket;
    this.#server = server;
    this.#log = options.log;
  }

  static async start(options: AgentOptions): Promise<IpamAgent> {
    mkdirSync(dirname(options.socket), { recursive: true, mode: 0o755 });
    if (await listening(options.socket)) throw new Error(`an agent already listens on ${options.socket}`);
    // A socket file left by an agent that died: remove it so we can bind.
    rmSync(options.socket, { force: true });
    const server = createServer();
    const agent = new IpamAgent(options, server);
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
      void agent.#handle(req, host, timeoutMs).then((response) => {
        res
          .writeHead(response.exitCode === 0 ? 200 : 500, {
            'content-type': 'application/json',
            'x-cni-exit-code': String(response.exitCode),
          })
          .end(response.stdout);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(options.socket, 0o600);
    options.log.info({ socket: options.socket, node: host }, 'ipam agent listening');
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
      rmSync(this.socket, { force: true });
    });
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function listening(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socket);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
