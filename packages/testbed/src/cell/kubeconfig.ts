import { writeFileSync } from 'node:fs';
import type { CertPair } from './pki.ts';
import { pem } from './pki.ts';

/**
 * Writes a kubeconfig with the certificates embedded (so it can be copied anywhere,
 * e.g. into core's cell registration). JSON is valid YAML, so no YAML library is needed.
 */
export function writeKubeconfig(
  path: string,
  options: { server: string; caCert: string; client: CertPair; cluster: string; user: string },
): string {
  const b64 = (file: string) => Buffer.from(pem(file)).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: options.cluster,
        cluster: { server: options.server, 'certificate-authority-data': b64(options.caCert) },
      },
    ],
    users: [
      {
        name: options.user,
        user: {
          'client-certificate-data': b64(options.client.cert),
          'client-key-data': b64(options.client.key),
        },
      },
    ],
    contexts: [{ name: options.cluster, context: { cluster: options.cluster, user: options.user } }],
    'current-context': options.cluster,
  };
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}
