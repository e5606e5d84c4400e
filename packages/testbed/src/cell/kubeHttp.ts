import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { CertPair } from './pki.ts';

export interface KubeResponse {
  status: number;
  body: string;
}

/** One HTTPS request to a Kubernetes API with a client certificate (for readiness probes). */
export function kubeRequest(
  server: string,
  caCert: string,
  client: CertPair,
  path: string,
  options: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<KubeResponse> {
  const url = new URL(path, server);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: readFileSync(caCert),
        cert: readFileSync(client.cert),
        key: readFileSync(client.key),
        headers: payload ? { 'content-type': 'application/json' } : {},
        timeout: options.timeoutMs ?? 2000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 2000} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
