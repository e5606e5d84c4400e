import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { ManagedProcess } from '../managedProcess.ts';
import { freePorts } from '../ports.ts';
import { waitUntilReady } from '../waitUntil.ts';
import { kubeBinary } from './kubeBinaries.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { kubeRequest } from './kubeHttp.ts';
import type { CellPki } from './pki.ts';
import { CELL_RANGES } from './podNetwork.ts';

export interface ControlPlane {
  server: string;
  adminKubeconfig: string;
  processes: ManagedProcess[];
  /** Starts another kube-apiserver exactly like the first (same port, flags and log), once that one has stopped. */
  restartApiserver(): Promise<ManagedProcess>;
}

/** QPS for controllers and the scheduler: the defaults (20) make 5,000 pods take minutes. */
const CLIENT_QPS = 500;

/**
 * Node lifecycle grace for cells with KWOK nodes (the default, 40 s, otherwise). KWOK
 * (run without node leases) rewrites each fake node's status every 20-25 s; with 500
 * nodes on 2 loaded cores it falls behind, the node lifecycle controller then marks the
 * nodes Unknown and their pods not Ready, and KWOK never marks those pods Ready again
 * (its pod-ready stage only takes pods without an IP). Fake nodes cannot fail on their
 * own, so the longer grace hides nothing there; it also delays noticing a real node's
 * failure in such a cell, which scale cells (no real node) do not need.
 */
const FAKE_NODE_CELL_GRACE = '5m';

/**
 * kube-apiserver (on the shared etcd under the cell's own prefix, Node+RBAC), then
 * kube-controller-manager and kube-scheduler. Started processes are pushed to `started`
 * as they come, so the caller can stop them whatever fails.
 */
export async function startControlPlane(options: {
  cell: string;
  dir: string;
  etcdUrl: string;
  pki: CellPki;
  started: ManagedProcess[];
  timeoutMs: number;
  /** The cell will have KWOK nodes: a longer node grace period (FAKE_NODE_CELL_GRACE). */
  fakeNodes?: boolean;
}): Promise<ControlPlane> {
  const { cell, dir, pki, started } = options;
  const [apiPort, cmPort, schedPort] = (await freePorts(3)) as [number, number, number];
  const server = `https://127.0.0.1:${apiPort}`;
  const spawnApiserver = () =>
    ManagedProcess.start({
      component: `${cell}/kube-apiserver`,
      argv: [
        kubeBinary('kube-apiserver'),
        `--etcd-servers=${options.etcdUrl}`,
        `--etcd-prefix=/cells/${cell}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--client-ca-file=${pki.ca.cert}`,
        `--tls-cert-file=${pki.apiserver.cert}`,
        `--tls-private-key-file=${pki.apiserver.key}`,
        `--service-account-key-file=${pki.serviceAccount.pub}`,
        `--service-account-signing-key-file=${pki.serviceAccount.key}`,
        `--service-account-issuer=https://kubernetes.default.svc.${cell}`,
        `--service-cluster-ip-range=${CELL_RANGES.services}`,
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction',
        `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
        `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
        `--kubelet-certificate-authority=${pki.ca.cert}`,
        '--kubelet-preferred-address-types=InternalIP,Hostname',
        '--allow-privileged=true',
        '--profiling=false',
        '--max-requests-inflight=800',
        '--max-mutating-requests-inflight=400',
        `--cert-dir=${join(dir, 'apiserver-certs')}`,
        '--v=1',
      ],
      cwd: dir,
      logFile: join(dir, 'kube-apiserver.log'),
    });
  const apiserverReady = (proc: ManagedProcess) =>
    waitUntilReady(
      proc,
      async () => (await kubeRequest(server, pki.ca.cert, pki.admin, '/readyz')).status === 200,
      { timeoutMs: options.timeoutMs, what: `GET ${server}/readyz` },
    );
  const apiserver = spawnApiserver();
  started.push(apiserver);
  await apiserverReady(apiserver);

  const kubeconfig = (name: string, client: { cert: string; key: string }, user: string) =>
    writeKubeconfig(join(dir, `${name}.kubeconfig`), {
      server,
      caCert: pki.ca.cert,
      client,
      cluster: cell,
      user,
    });
  const adminKubeconfig = kubeconfig('admin', pki.admin, 'leengine-admin');
  const cmKubeconfig = kubeconfig(
    'controller-manager',
    pki.controllerManager,
    'system:kube-controller-manager',
  );
  const schedKubeconfig = kubeconfig('scheduler', pki.scheduler, 'system:kube-scheduler');

  const controllerManager = ManagedProcess.start({
    component: `${cell}/kube-controller-manager`,
    argv: [
      kubeBinary('kube-controller-manager'),
      `--kubeconfig=${cmKubeconfig}`,
      `--authentication-kubeconfig=${cmKubeconfig}`,
      `--authorization-kubeconfig=${cmKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${cmPort}`,
      '--leader-elect=false',
      `--cluster-signing-cert-file=${pki.ca.cert}`,
      `--cluster-signing-key-file=${pki.ca.key}`,
      `--root-ca-file=${pki.ca.cert}`,
      `--service-account-private-key-file=${pki.serviceAccount.key}`,
      '--use-service-account-credentials=true',
      `--service-cluster-ip-range=${CELL_RANGES.services}`,
      '--allocate-node-cidrs=false',
      `--kube-api-qps=${CLIENT_QPS}`,
      `--kube-api-burst=${CLIENT_QPS * 2}`,
      '--concurrent-replicaset-syncs=10',
      '--concurrent-deployment-syncs=10',
      ...(options.fakeNodes
        ? [
            `--node-monitor-grace-period=${FAKE_NODE_CELL_GRACE}`,
            `--node-startup-grace-period=${FAKE_NODE_CELL_GRACE}`,
          ]
        : []),
      '--v=1',
    ],
    cwd: dir,
    logFile: join(dir, 'kube-controller-manager.log'),
  });
  started.push(controllerManager);

  const schedulerConfig = join(dir, 'scheduler-config.json');
  writeFileSync(
    schedulerConfig,
    JSON.stringify({
      apiVersion: 'kubescheduler.config.k8s.io/v1',
      kind: 'KubeSchedulerConfiguration',
      clientConnection: { kubeconfig: schedKubeconfig, qps: CLIENT_QPS, burst: CLIENT_QPS * 2 },
      leaderElection: { leaderElect: false },
    }),
  );
  const scheduler = ManagedProcess.start({
    component: `${cell}/kube-scheduler`,
    argv: [
      kubeBinary('kube-scheduler'),
      `--config=${schedulerConfig}`,
      `--authentication-kubeconfig=${schedKubeconfig}`,
      `--authorization-kubeconfig=${schedKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
      '--v=1',
    ],
    cwd: dir,
    logFile: join(dir, 'kube-scheduler.log'),
  });
  started.push(scheduler);

  await Promise.all([
    waitUntilReady(controllerManager, () => httpsHealthz(cmPort), {
      timeoutMs: options.timeoutMs,
      what: `GET https://127.0.0.1:${cmPort}/healthz`,
    }),
    waitUntilReady(scheduler, () => httpsHealthz(schedPort), {
      timeoutMs: options.timeoutMs,
      what: `GET https://127.0.0.1:${schedPort}/healthz`,
    }),
  ]);
  return {
    server,
    adminKubeconfig,
    processes: [apiserver, controllerManager, scheduler],
    restartApiserver: async () => {
      const proc = spawnApiserver();
      try {
        await apiserverReady(proc);
      } catch (error) {
        await proc.stop(1000);
        throw error;
      }
      return proc;
    },
  };
}

/** /healthz of a component serving with its own self-signed certificate. */
function httpsHealthz(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 1000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
