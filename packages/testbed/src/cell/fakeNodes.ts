import { join } from 'node:path';
import { ManagedProcess } from '../managedProcess.ts';
import { waitUntilReady } from '../waitUntil.ts';
import { kubeBinary } from './kubeBinaries.ts';
import { kubeRequest } from './kubeHttp.ts';
import type { CellPki } from './pki.ts';
import { CELL_RANGES } from './podNetwork.ts';

/** Annotation that hands a node to KWOK (and only such nodes: never the real kubelet's). */
export const FAKE_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;
/** Fake nodes are tainted so real workloads never land on them; scale tests tolerate it. */
export const FAKE_NODE_TAINT = { key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' } as const;

/** The k-th fake node's pod range: a /24 inside CELL_RANGES.fakePods. */
function fakePodCidr(k: number): string {
  const base = Number(CELL_RANGES.fakePods.split('.')[1]);
  return `10.${base + Math.floor(k / 256)}.${k % 256}.0/24`;
}

/** Registers `count` fake nodes and starts KWOK to keep them (and their pods) alive. */
export async function startFakeNodes(o: {
  cell: string;
  dir: string;
  server: string;
  pki: CellPki;
  adminKubeconfig: string;
  count: number;
  started: ManagedProcess[];
  timeoutMs: number;
}): Promise<string[]> {
  const kwok = ManagedProcess.start({
    component: `${o.cell}/kwok`,
    argv: [
      kubeBinary('kwok'),
      `--kubeconfig=${o.adminKubeconfig}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${FAKE_NODE_ANNOTATION.key}=${FAKE_NODE_ANNOTATION.value}`,
      `--cidr=${CELL_RANGES.fakePods.replace('.0/', '.1/')}`,
      '--node-ip=127.0.0.1',
    ],
    cwd: o.dir,
    logFile: join(o.dir, 'kwok.log'),
  });
  o.started.push(kwok);
  const names = Array.from({ length: o.count }, (_, k) => `${o.cell}-fake-${k}`);
  // Created a few at a time: the apiserver takes them as fast as it can write to etcd.
  const batch = 50;
  for (let i = 0; i < names.length; i += batch) {
    await Promise.all(
      names.slice(i, i + batch).map(async (name, j) => {
        const k = i + j;
        const response = await kubeRequest(o.server, o.pki.ca.cert, o.pki.admin, '/api/v1/nodes', {
          method: 'POST',
          timeoutMs: 30_000,
          body: {
            apiVersion: 'v1',
            kind: 'Node',
            metadata: {
              name,
              annotations: {
                [FAKE_NODE_ANNOTATION.key]: FAKE_NODE_ANNOTATION.value,
                'node.alpha.kubernetes.io/ttl': '0',
              },
              labels: {
                type: 'kwok',
                'kubernetes.io/hostname': name,
                'kubernetes.io/os': 'linux',
                'kubernetes.io/arch': 'amd64',
              },
            },
            spec: { podCIDR: fakePodCidr(k), podCIDRs: [fakePodCidr(k)], taints: [FAKE_NODE_TAINT] },
            status: {
              allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
              capacity: { cpu: '32', memory: '256Gi', pods: '110' },
            },
          },
        });
        if (response.status !== 201 && response.status !== 409) {
          throw new Error(
            `creating fake node ${name}: HTTP ${response.status} ${response.body.slice(0, 300)}`,
          );
        }
      }),
    );
  }
  await waitUntilReady(kwok, async () => (await readyNodeCount(o, names)) === names.length, {
    timeoutMs: o.timeoutMs,
    what: `${o.count} fake nodes Ready`,
    intervalMs: 200,
  });
  return names;
}

async function readyNodeCount(o: { server: string; pki: CellPki }, names: string[]): Promise<number> {
  const wanted = new Set(names);
  const response = await kubeRequest(
    o.server,
    o.pki.ca.cert,
    o.pki.admin,
    '/api/v1/nodes?labelSelector=type%3Dkwok',
    {
      timeoutMs: 30_000,
    },
  );
  const list = JSON.parse(response.body) as {
    items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
  };
  return list.items.filter(
    (n) =>
      wanted.has(n.metadata.name) &&
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
}
