import { request } from 'node:http';
import { CLIENT_HEADER } from '../http/authHook.ts';

/**
 * POST /api/v1/session from a chosen loopback source address (a distinct client as core
 * or a proxy sees it); answers the status. `headers` may add e.g. X-Forwarded-For.
 */
export function signInFrom(
  baseUrl: string,
  localAddress: string,
  credentials: { username: string; password: string },
  headers: Record<string, string> = {},
): Promise<number> {
  const body = JSON.stringify(credentials);
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}/api/v1/session`,
      {
        method: 'POST',
        localAddress,
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          [CLIENT_HEADER]: 'test',
          ...headers,
        },
      },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}
