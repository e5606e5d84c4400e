import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { type ComponentHandle, retryOnPortClash } from '../component.ts';
import { ComponentError } from '../componentError.ts';
import type { EtcdHandle } from '../etcd.ts';
import type { ManagedProcess } from '../managedProcess.ts';
import { unmountUnder } from '../mounts.ts';
import { unwatchCgroup, watchCgroup } from '../reaper.ts';
import type { RegistryHandle } from '../registry.ts';
import { waitUntilReady } from '../waitUntil.ts';
import { makeWorkDir } from '../workDir.ts';
import { createCgroup, killCgroup, moveToCgroup, removeCgroup } from './cgroups.ts';
import { startControlPlane } from './controlPlane.ts';
import { startFakeNodes } from './fakeNodes.ts';
import { type CellImages, ensureCellImages } from './images.ts';
import { kubeRequest } from './kubeHttp.ts';
import { type RealNode, startRealNode } from './node.ts';
import { createCellPki } from './pki.ts';
import {
  createBridge,
  ensureLocalRoutes,
  type PodSubnet,
  reservePodSubnet,
  writeBridgeCniConfig,
} from './podNetwork.ts';

/** How a real node's pods get their network. Default: Debian's bridge + host-local. */
export interface CellCni {
  /** Directory with the plugin executables (must also hold `loopback`). */
  binDir: string;
  /** Writes the node's CNI config into `confDir`; runs after the bridge exists, before the kubelet starts. */
  writeConfig(
    confDir: string,
    context: { cell: string; node: string; subnet: PodSubnet; stateDir: string },
  ): void | Promise<void>;
}

export interface CellOptions {
  /** A DNS label; also the cell's etcd prefix (`/cells/<name>`). */
  name: string;
  /** The region's etcd: the cell's apiserver stores its data there under its own prefix. */
  etcd: EtcdHandle;
  /** The region's registry: the pause and test images come from it. Needed for a real node. */
  registry?: RegistryHandle;
  /**
   * `user:secret` to push the cell images with, when the registry has token auth (the
   * images must then be pullable anonymously: public repositories).
   */
  registryCredentials?: string;
  /** 1 starts a real node (containerd + runc + kubelet); 0 a control plane only. Default 1. */
  nodes?: 0 | 1;
  /** KWOK-managed simulated nodes (tainted `kwok.x-k8s.io/node=fake:NoSchedule`). */
  fakeNodes?: number;
  cni?: CellCni;
  /**
   * Always use the pod subnet 10.88.<podSubnetIndex>.0/24 (its bridge `lecell<n>`), e.g. so
   * that a cell's IPAM segment stays the same across restarts; the start fails if another
   * running cell holds it. Default: any free one.
   */
  podSubnetIndex?: number;
  /**
   * Keep the cell here across restarts (its PKI, and through the shared etcd its API
   * objects; the node's runtime state is started afresh). Default: a temp dir.
   */
  dir?: string;
  timeoutMs?: number;
}

export interface CellHandle extends ComponentHandle {
  readonly name: string;
  /** The apiserver's URL. */
  readonly server: string;
  /** Path of an admin (system:masters) kubeconfig with embedded certificates. */
  readonly kubeconfig: string;
  /** The real node, if started. */
  readonly node: RealNode | undefined;
  readonly podSubnet: PodSubnet | undefined;
  /**
   * The cgroups of a cell with a real node: its kubelet's cgroup root (pods) and
   * `<that>-node` (kubelet, containerd); removed when the cell stops.
   */
  readonly cgroups: readonly string[];
  readonly fakeNodes: string[];
  readonly images: CellImages | undefined;
  /** All the cell's processes, first started first. */
  readonly processes: readonly ManagedProcess[];
  /** A @kubernetes/client-node KubeConfig for the admin kubeconfig. */
  kubeConfig(): KubeConfig;
  /**
   * Stops the cell's kube-apiserver only (a cell "down" as its users see it); the node,
   * controllers and pods keep running. `startApiserver` brings it back on the same port.
   */
  stopApiserver(): Promise<void>;
  /** Starts the kube-apiserver again after `stopApiserver`, and waits until it is ready. */
  startApiserver(): Promise<void>;
  /** A raw admin request to the apiserver (JSON body), for probes and tests. */
  request(
    path: string,
    init?: { method?: string; body?: unknown },
  ): Promise<{ status: number; body: string }>;
}

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/;
const DEBIAN_CNI_BIN = '/usr/lib/cni';

/**
 * Starts a cell: its own PKI, kube-apiserver on the shared etcd under `/cells/<name>`,
 * controller-manager and scheduler, optionally a real node and KWOK fake nodes.
 * On any failure everything started so far is stopped and removed; a start that lost
 * one of its free ports to another process is retried whole, on fresh ports.
 */
export function startCell(options: CellOptions): Promise<CellHandle> {
  return retryOnPortClash(() => startCellOnce(options));
}

async function startCellOnce(options: CellOptions): Promise<CellHandle> {
  if (!DNS_LABEL.test(options.name))
    throw new ComponentError('cell', `invalid cell name ${JSON.stringify(options.name)}`);
  const nodes = options.nodes ?? 1;
  if (nodes === 1 && !options.registry) {
    throw new ComponentError('cell', 'a real node needs the registry (for the pause image): pass `registry`');
  }
  const cell = options.name;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const workDir = makeWorkDir(`cell-${cell}`, { dir: options.dir });
  const started: ManagedProcess[] = [];
  const suffix = randomBytes(3).toString('hex');
  const podCgroup = `leengine-${cell}-${suffix}`;
  const nodeCgroup = `${podCgroup}-node`;
  let subnet: PodSubnet | undefined;
  const startedAt = performance.now();

  const teardown = async () => {
    // Everything but the apiserver first (node state is disposable: the cgroup kill
    // below ends what is left), so no client holds the apiserver's shutdown open.
    const [apiserver, ...rest] = started;
    await Promise.all(rest.reverse().map((p) => p.stop(1000)));
    await apiserver?.stop(1000);
    if (nodes === 1) {
      // containerd's shims and the containers left their process groups: end them by cgroup.
      await killCgroup(podCgroup);
      await killCgroup(nodeCgroup);
      removeCgroup(podCgroup);
      removeCgroup(nodeCgroup);
      unwatchCgroup(podCgroup);
      unwatchCgroup(nodeCgroup);
    }
    subnet?.release();
    unmountUnder(workDir.path);
    workDir.remove();
  };

  try {
    ensureLocalRoutes();
    const pkiDir = join(workDir.path, 'pki');
    mkdirSync(pkiDir, { recursive: true });
    const [pki, images] = await Promise.all([
      createCellPki(pkiDir, cell),
      options.registry && nodes === 1
        ? ensureCellImages(options.registry, options.registryCredentials)
        : Promise.resolve(undefined),
    ]);
    const plane = await startControlPlane({
      cell,
      dir: workDir.path,
      etcdUrl: options.etcd.url,
      pki,
      started,
      timeoutMs,
      fakeNodes: (options.fakeNodes ?? 0) > 0,
    });
    const request = (path: string, init: { method?: string; body?: unknown } = {}) =>
      kubeRequest(plane.server, pki.ca.cert, pki.admin, path, { ...init, timeoutMs: 30_000 });
    const apiserver = started[0] as ManagedProcess;

    // Pods can only be created once the namespace's default ServiceAccount exists.
    await waitUntilReady(
      apiserver,
      async () => (await request('/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
      { timeoutMs, what: 'the default ServiceAccount', intervalMs: 100 },
    );

    let node: RealNode | undefined;
    if (nodes === 1 && options.registry && images) {
      subnet = reservePodSubnet(options.podSubnetIndex);
      createBridge(subnet);
      const nodeDir = join(workDir.path, 'node');
      // A node starts from nothing: its pods are recreated from the apiserver's state.
      unmountUnder(nodeDir);
      rmSync(nodeDir, { recursive: true, force: true });
      mkdirSync(nodeDir);
      for (const cg of [podCgroup, nodeCgroup]) {
        createCgroup(cg);
        watchCgroup(cg);
      }
      const nodeName = `${cell}-node`;
      const cni = options.cni ?? {
        binDir: DEBIAN_CNI_BIN,
        writeConfig: (confDir, ctx) => writeBridgeCniConfig(confDir, ctx.stateDir, ctx.cell, ctx.subnet),
      };
      await cni.writeConfig(join(nodeDir, 'cni', 'net.d'), {
        cell,
        node: nodeName,
        subnet,
        stateDir: join(nodeDir, 'cni', 'state'),
      });
      node = await startRealNode({
        cell,
        name: nodeName,
        dir: nodeDir,
        server: plane.server,
        pki,
        registryHost: options.registry.host,
        pauseImage: images.pause,
        cniBinDir: cni.binDir,
        nodeIp: subnet.gateway,
        podCgroup,
        onSpawn: (pid) => moveToCgroup(pid, nodeCgroup),
        started,
        timeoutMs,
      });
      await waitUntilReady(apiserver, async () => nodeReady(await request(`/api/v1/nodes/${nodeName}`)), {
        timeoutMs,
        what: `node ${nodeName} Ready`,
        intervalMs: 100,
      });
    }

    const fakeNodes = options.fakeNodes
      ? await startFakeNodes({
          cell,
          dir: workDir.path,
          server: plane.server,
          pki,
          adminKubeconfig: plane.adminKubeconfig,
          count: options.fakeNodes,
          started,
          timeoutMs: Math.max(timeoutMs, options.fakeNodes * 100),
        })
      : [];

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= teardown();
      return stopping;
    };
    // The apiserver is always started[0], also after a restart: teardown stops it last.
    let restarting: Promise<void> | undefined;
    const currentApiserver = () => started[0] as ManagedProcess;
    return {
      component: `cell ${cell}`,
      dir: workDir.path,
      get process() {
        return currentApiserver();
      },
      startupMs: Math.round(performance.now() - startedAt),
      logTail: (lines = 20) =>
        started.map((p) => `--- ${p.component} ---\n${p.tail(lines).trimEnd()}`).join('\n'),
      stop,
      [Symbol.asyncDispose]: stop,
      name: cell,
      server: plane.server,
      kubeconfig: plane.adminKubeconfig,
      node,
      podSubnet: subnet,
      cgroups: nodes === 1 ? [podCgroup, nodeCgroup] : [],
      fakeNodes,
      images,
      processes: started,
      request,
      stopApiserver: async () => {
        await restarting;
        await currentApiserver().stop(5000);
      },
      startApiserver: async () => {
        if (stopping) throw new ComponentError(`cell ${cell}`, 'the cell is stopped');
        if (!currentApiserver().exitStatus) return;
        restarting ??= plane
          .restartApiserver()
          .then((proc) => {
            started[0] = proc;
          })
          .finally(() => {
            restarting = undefined;
          });
        await restarting;
      },
      kubeConfig: () => {
        const config = new KubeConfig();
        config.loadFromFile(plane.adminKubeconfig);
        return config;
      },
    };
  } catch (error) {
    const tails = started.map((p) => `--- ${p.component} ---\n${p.tail(15).trimEnd()}`).join('\n');
    await teardown();
    if (error instanceof ComponentError) throw error;
    throw new ComponentError(`cell ${cell}`, error instanceof Error ? error.message : String(error), tails, {
      cause: error,
    });
  }
}

function nodeReady(response: { status: number; body: string }): boolean {
  if (response.status !== 200) return false;
  const node = JSON.parse(response.body) as { status?: { conditions?: { type: string; status: string }[] } };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
