import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from '../binaries.ts';
import { ManagedProcess } from '../managedProcess.ts';
import { freePorts } from '../ports.ts';
import { httpOk, waitUntilReady } from '../waitUntil.ts';
import { kubeBinary } from './kubeBinaries.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import type { CellPki } from './pki.ts';

export interface RealNode {
  name: string;
  /** The node's containerd socket (for crictl/ctr and for CNI tests). */
  containerdSocket: string;
  cniConfDir: string;
  cniBinDir: string;
  cgroup: string;
}

export interface RealNodeOptions {
  cell: string;
  name: string;
  dir: string;
  server: string;
  pki: CellPki;
  /** host:port of the registry the pause image and test images come from (plain HTTP). */
  registryHost: string;
  pauseImage: string;
  /** Directory holding the CNI plugin executables. */
  cniBinDir: string;
  /** The node's address (on its bridge): kubelet serves there and reports it as InternalIP. */
  nodeIp: string;
  /** The kubelet's cgroupRoot (created by the caller): pods go below it. */
  podCgroup: string;
  /** Called with each node process's pid right after spawn (to move it into a cgroup). */
  onSpawn: (pid: number) => void;
  started: ManagedProcess[];
  timeoutMs: number;
}

/** containerd's own instance for one node: its own root, state and socket. */
function containerdConfig(o: {
  dir: string;
  socket: string;
  cniConfDir: string;
  cniBinDir: string;
  pause: string;
}) {
  const p = (s: string) => JSON.stringify(s);
  return `version = 2
root = ${p(join(o.dir, 'root'))}
state = ${p(join(o.dir, 'state'))}
disabled_plugins = ["io.containerd.internal.v1.tracing", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = ${p(o.socket)}

[ttrpc]
  address = ${p(`${o.socket}.ttrpc`)}

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${p(o.pause)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  restrict_oom_score_adj = true

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${p(o.cniBinDir)}
    conf_dir = ${p(o.cniConfDir)}

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ${p(join(o.dir, 'certs.d'))}
`;
}

/** The registry of the local region speaks plain HTTP on loopback. */
function writeRegistryHosts(dir: string, registryHost: string): void {
  const hostDir = join(dir, 'certs.d', registryHost);
  mkdirSync(hostDir, { recursive: true });
  writeFileSync(
    join(hostDir, 'hosts.toml'),
    `server = "http://${registryHost}"\n\n[host."http://${registryHost}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
}

/** Starts containerd and a kubelet joined to the cell with a node certificate. */
export async function startRealNode(o: RealNodeOptions): Promise<RealNode> {
  const containerdDir = join(o.dir, 'containerd');
  const kubeletDir = join(o.dir, 'kubelet');
  const cniConfDir = join(o.dir, 'cni', 'net.d');
  mkdirSync(containerdDir, { recursive: true });
  mkdirSync(kubeletDir, { recursive: true });
  mkdirSync(cniConfDir, { recursive: true });
  const socket = join(containerdDir, 'containerd.sock');
  writeRegistryHosts(containerdDir, o.registryHost);
  const containerdConf = join(containerdDir, 'config.toml');
  writeFileSync(
    containerdConf,
    containerdConfig({ dir: containerdDir, socket, cniConfDir, cniBinDir: o.cniBinDir, pause: o.pauseImage }),
  );
  const containerd = ManagedProcess.start({
    component: `${o.cell}/containerd`,
    argv: [findBinary('containerd', 'containerd'), '--config', containerdConf],
    cwd: containerdDir,
    logFile: join(o.dir, 'containerd.log'),
  });
  o.started.push(containerd);
  o.onSpawn(containerd.pid);
  await waitUntilReady(containerd, async () => socketExists(socket), {
    timeoutMs: o.timeoutMs,
    what: `socket ${socket}`,
  });

  const certs = await o.pki.node(o.name, o.nodeIp);
  const kubeconfig = writeKubeconfig(join(o.dir, 'kubelet.kubeconfig'), {
    server: o.server,
    caCert: o.pki.ca.cert,
    client: certs.client,
    cluster: o.cell,
    user: `system:node:${o.name}`,
  });
  const [port, healthzPort] = (await freePorts(2)) as [number, number];
  // Each kubelet has its own cgroup root, so two on one machine never share `kubepods`.
  const cgroup = o.podCgroup;
  const kubeletConfig = join(o.dir, 'kubelet-config.json');
  writeFileSync(
    kubeletConfig,
    JSON.stringify(
      {
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        address: o.nodeIp,
        port,
        readOnlyPort: 0,
        healthzBindAddress: '127.0.0.1',
        healthzPort,
        authentication: {
          x509: { clientCAFile: o.pki.ca.cert },
          webhook: { enabled: true },
          anonymous: { enabled: false },
        },
        authorization: { mode: 'Webhook' },
        tlsCertFile: certs.serving.cert,
        tlsPrivateKeyFile: certs.serving.key,
        cgroupDriver: 'cgroupfs',
        cgroupRoot: `/${cgroup}`,
        containerRuntimeEndpoint: `unix://${socket}`,
        failSwapOn: false,
        podLogsDir: join(o.dir, 'pod-logs'),
        resolvConf: '',
        serializeImagePulls: false,
        makeIPTablesUtilChains: false,
        protectKernelDefaults: false,
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
        evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
        volumePluginDir: join(o.dir, 'volume-plugins'),
        maxPods: 110,
        // Fast feedback in tests: status every 5 s (a real node: 10 s).
        nodeStatusUpdateFrequency: '5s',
        syncFrequency: '10s',
        fileCheckFrequency: '10s',
        shutdownGracePeriod: '0s',
      },
      null,
      2,
    ),
  );
  const kubelet = ManagedProcess.start({
    component: `${o.cell}/kubelet`,
    argv: [
      kubeBinary('kubelet'),
      `--config=${kubeletConfig}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${kubeletDir}`,
      `--cert-dir=${join(o.dir, 'kubelet-certs')}`,
      `--hostname-override=${o.name}`,
      `--node-ip=${o.nodeIp}`,
      '--v=1',
    ],
    cwd: o.dir,
    logFile: join(o.dir, 'kubelet.log'),
  });
  o.started.push(kubelet);
  o.onSpawn(kubelet.pid);
  await waitUntilReady(kubelet, () => httpOk(`http://127.0.0.1:${healthzPort}/healthz`), {
    timeoutMs: o.timeoutMs,
    what: `kubelet GET http://127.0.0.1:${healthzPort}/healthz`,
  });
  return { name: o.name, containerdSocket: socket, cniConfDir, cniBinDir: o.cniBinDir, cgroup };
}

async function socketExists(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return (await stat(path).catch(() => undefined))?.isSocket() ?? false;
}
