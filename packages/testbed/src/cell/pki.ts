import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ComponentError } from '../componentError.ts';

const run = promisify(execFile);

/** A certificate and its key, as file paths. */
export interface CertPair {
  cert: string;
  key: string;
}

export interface CellPki {
  dir: string;
  ca: CertPair;
  /** kube-apiserver's serving certificate. */
  apiserver: CertPair;
  /** The apiserver's client certificate towards kubelets. */
  apiserverKubeletClient: CertPair;
  /** Client certificates: cluster admin (system:masters), controller-manager, scheduler. */
  admin: CertPair;
  controllerManager: CertPair;
  scheduler: CertPair;
  /** Service-account token signing key pair. */
  serviceAccount: { key: string; pub: string };
  /** A node's client (system:node:<name>) and serving certificates. */
  /** The serving cert names the node's IP; a node on another IP gets a new one. */
  node(name: string, ip: string): Promise<{ client: CertPair; serving: CertPair }>;
}

interface LeafSpec {
  name: string;
  subject: string;
  usage: 'clientAuth' | 'serverAuth' | 'serverAuth,clientAuth';
  altNames?: string[];
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new ComponentError('cell-pki', `openssl ${args[0]} failed`, e.stderr ?? e.message, {
      cause: error,
    });
  }
}

/** ECDSA P-256: keys are made in milliseconds, and every Kubernetes component accepts them. */
async function newKey(path: string): Promise<void> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path]);
}

async function leaf(dir: string, ca: CertPair, spec: LeafSpec): Promise<CertPair> {
  const pair = { cert: join(dir, `${spec.name}.crt`), key: join(dir, `${spec.name}.key`) };
  if (existing(pair)) return pair;
  const csr = join(dir, `${spec.name}.csr`);
  const ext = join(dir, `${spec.name}.ext`);
  await newKey(pair.key);
  await openssl(['req', '-new', '-key', pair.key, '-subj', spec.subject, '-out', csr]);
  const lines = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${spec.usage}`,
  ];
  if (spec.altNames?.length) lines.push(`subjectAltName=${spec.altNames.join(',')}`);
  writeFileSync(ext, `${lines.join('\n')}\n`);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '365',
    '-extfile',
    ext,
    '-out',
    pair.cert,
  ]);
  return pair;
}

/** Files kept from an earlier start (a persistent cell dir) are reused, not remade. */
function existing(pair: CertPair): boolean {
  return existsSync(pair.cert) && existsSync(pair.key);
}

async function makeCa(ca: CertPair, cellName: string): Promise<void> {
  await newKey(ca.key);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    ca.key,
    '-subj',
    `/CN=leengine-cell-${cellName}-ca`,
    '-days',
    '3650',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-out',
    ca.cert,
  ]);
}

async function makeServiceAccountKey(sa: { key: string; pub: string }): Promise<void> {
  if (existsSync(sa.key) && existsSync(sa.pub)) return;
  await newKey(sa.key);
  await openssl(['ec', '-in', sa.key, '-pubout', '-out', sa.pub]);
}

/**
 * A cell's own PKI: a CA and every certificate its control plane and node need. In a
 * persistent dir the PKI of an earlier start is reused, so tokens and kubeconfigs stay valid.
 */
export async function createCellPki(dir: string, cellName: string): Promise<CellPki> {
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  if (!existing(ca)) await makeCa(ca, cellName);
  const serviceAccount = { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') };
  const [apiserver, apiserverKubeletClient, admin, controllerManager, scheduler] = await Promise.all([
    leaf(dir, ca, {
      name: 'apiserver',
      subject: '/CN=kube-apiserver',
      usage: 'serverAuth',
      altNames: [
        'IP:127.0.0.1',
        'IP:10.96.0.1',
        'DNS:localhost',
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
      ],
    }),
    leaf(dir, ca, {
      name: 'apiserver-kubelet-client',
      subject: '/O=system:masters/CN=kube-apiserver-kubelet-client',
      usage: 'clientAuth',
    }),
    leaf(dir, ca, { name: 'admin', subject: '/O=system:masters/CN=leengine-admin', usage: 'clientAuth' }),
    leaf(dir, ca, {
      name: 'controller-manager',
      subject: '/CN=system:kube-controller-manager',
      usage: 'clientAuth',
    }),
    leaf(dir, ca, { name: 'scheduler', subject: '/CN=system:kube-scheduler', usage: 'clientAuth' }),
    makeServiceAccountKey(serviceAccount),
  ]);
  return {
    dir,
    ca,
    apiserver,
    apiserverKubeletClient,
    admin,
    controllerManager,
    scheduler,
    serviceAccount,
    node: async (name, ip) => {
      const [client, serving] = await Promise.all([
        leaf(dir, ca, {
          name: `node-${name}-client`,
          subject: `/O=system:nodes/CN=system:node:${name}`,
          usage: 'clientAuth',
        }),
        leaf(dir, ca, {
          name: `node-${name}-serving-${ip}`,
          subject: `/CN=system:node:${name}`,
          usage: 'serverAuth',
          altNames: [`IP:${ip}`, 'IP:127.0.0.1', `DNS:${name}`, 'DNS:localhost'],
        }),
      ]);
      return { client, serving };
    },
  };
}

/** PEM text of a file, for embedding in kubeconfigs. */
export function pem(path: string): string {
  return readFileSync(path, 'utf8');
}
