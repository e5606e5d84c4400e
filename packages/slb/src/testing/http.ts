import { createServer, request, type Server } from 'node:http';

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One request to 127.0.0.1:port with a Host header (a new connection each time). */
export function httpGet(
  port: number,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        agent: false,
        headers: { ...headers, host },
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A backend for tests: answers every request with its name (and the path it got). */
export interface Backend {
  name: string;
  port: number;
  /** Requests served so far. */
  readonly served: number;
  close(): Promise<void>;
}

export async function startBackend(name: string): Promise<Backend> {
  let served = 0;
  const server: Server = createServer((req, res) => {
    served++;
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name, 'x-path': req.url ?? '' });
    res.end(name);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('backend: no port');
  return {
    name,
    port: address.port,
    get served() {
      return served;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
