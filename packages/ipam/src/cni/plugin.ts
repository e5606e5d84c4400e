import { ConflictError, DomainError, NotFoundError, UnavailableError } from '@leengine/common';
import { ContentionError, ExhaustedError } from '../errors.ts';
import type { Ipam } from '../ipam.ts';
import { contains, parseCidr, parseIp } from '../ipv4.ts';
import { CniCode, CniError } from './cniError.ts';
import { answerVersion, type NetConf, parseNetConf, SUPPORTED_VERSIONS } from './config.ts';
import { type CniEnv, parseCniEnv } from './env.ts';
import {
  hostVethName,
  inspectPodInterface,
  linkExists,
  linkMaster,
  netnsStatus,
  setUpPodInterface,
  tearDownPodInterface,
} from './podNetwork.ts';
import { CommandError } from './run.ts';

/** One plugin invocation: the CNI_* environment and the config from stdin. */
export interface CniRequest {
  env: Record<string, string | undefined>;
  stdin: string;
}

/** What the plugin executable prints on stdout and exits with. */
export interface CniResponse {
  exitCode: number;
  stdout: string;
}

export interface PluginDeps {
  /** The IPAM of the config's cell (the agent keeps one etcd client per endpoint list). */
  ipamFor(conf: NetConf): Ipam;
  /** Node name when the config names none. */
  hostname: string;
  now?: () => Date;
}

/** GC leaves alone allocations younger than this (unless the config says otherwise): their ADD may still be running. */
export const GC_GRACE_MS = 60_000;

/** Commands newer than the first versions we speak. */
const INTRODUCED: Partial<Record<CniEnv['command'], string>> = {
  CHECK: '0.4.0',
  GC: '1.1.0',
  STATUS: '1.1.0',
};

function versionBefore(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  return false;
}

/**
 * Runs one CNI command (spec 1.1: ADD, DEL, CHECK, VERSION, GC, STATUS) and returns
 * what to print and the exit code; errors come back in the spec's error format.
 */
export async function runCni(request: CniRequest, deps: PluginDeps): Promise<CniResponse> {
  const version = answerVersion(request.stdin);
  try {
    const env = parseCniEnv(request.env);
    if (env.command === 'VERSION') {
      return success({ cniVersion: version, supportedVersions: SUPPORTED_VERSIONS });
    }
    const conf = parseNetConf(request.stdin);
    const since = INTRODUCED[env.command];
    if (since && versionBefore(conf.cniVersion, since)) {
      throw new CniError(
        CniCode.incompatibleVersion,
        `${env.command} needs CNI ${since} or later; the config says ${conf.cniVersion}`,
      );
    }
    const ipam = deps.ipamFor(conf);
    const node = conf.nodeName ?? deps.hostname;
    switch (env.command) {
      case 'ADD':
        return success(await add(env, conf, ipam, node));
      case 'DEL':
        await del(env, ipam);
        return { exitCode: 0, stdout: '' };
      case 'CHECK':
        await check(env, conf, ipam);
        return { exitCode: 0, stdout: '' };
      case 'GC':
        await gc(conf, ipam, node, (deps.now ?? (() => new Date()))());
        return { exitCode: 0, stdout: '' };
      case 'STATUS':
        await status(ipam);
        return { exitCode: 0, stdout: '' };
    }
  } catch (error) {
    const cni = toCniError(error);
    return { exitCode: 1, stdout: `${JSON.stringify(cni.toJson(version))}\n` };
  }
}

async function add(env: CniEnv, conf: NetConf, ipam: Ipam, node: string) {
  const ns = netnsStatus(env.netns);
  if (ns === 'missing')
    throw new CniError(CniCode.unknownContainer, `network namespace ${env.netns} does not exist`);
  if (ns === 'other') {
    throw new CniError(CniCode.invalidEnvironment, `CNI_NETNS ${env.netns} is not a network namespace`);
  }
  const attachment = { containerId: env.containerId, ifname: env.ifname };
  const allocated = await ipam.allocate({
    attachment,
    pod: {
      namespace: env.args.K8S_POD_NAMESPACE ?? '',
      name: env.args.K8S_POD_NAME ?? '',
      uid: env.args.K8S_POD_UID,
    },
    node,
  });
  const { ip } = allocated.allocation.value;
  const { prefix } = parseCidr(allocated.segment.cidr);
  const gateway = allocated.segment.gateway;
  const hostVeth = hostVethName(env.containerId, env.ifname);
  let macs: Awaited<ReturnType<typeof setUpPodInterface>>;
  try {
    macs = await setUpPodInterface({
      netns: env.netns,
      ifname: env.ifname,
      hostVeth,
      bridge: conf.bridge,
      bridgeKind: conf.bridgeKind,
      ip,
      prefix,
      gateway,
      mtu: conf.mtu,
      gratuitousArp: conf.gratuitousArp,
      gatewayOnBridge: conf.gatewayOnBridge,
      vlan: allocated.segment.vlan,
    });
  } catch (error) {
    // Leave nothing behind: the runtime may never call DEL for a failed ADD.
    await tearDownPodInterface(hostVeth).catch(() => {});
    await ipam.releaseAttachment(attachment).catch(() => {});
    throw error;
  }
  const legacy = conf.cniVersion.startsWith('0.');
  return {
    cniVersion: conf.cniVersion,
    interfaces: [
      { name: conf.bridge, mac: macs.bridge },
      { name: hostVeth, mac: macs.hostVeth },
      { name: env.ifname, mac: macs.pod, sandbox: env.netns },
    ],
    ips: [{ ...(legacy ? { version: '4' } : {}), address: `${ip}/${prefix}`, gateway, interface: 2 }],
    routes: [{ dst: '0.0.0.0/0', gw: gateway }],
    dns: {},
  };
}

async function del(env: CniEnv, ipam: Ipam): Promise<void> {
  // The address first: if etcd is down DEL fails and the runtime retries; the veth goes
  // with the netns anyway.
  await ipam.releaseAttachment({ containerId: env.containerId, ifname: env.ifname });
  await tearDownPodInterface(hostVethName(env.containerId, env.ifname));
}

async function check(env: CniEnv, conf: NetConf, ipam: Ipam): Promise<void> {
  const fail = (msg: string) => new CniError(CniCode.checkFailed, msg);
  const allocation = await ipam.getAttachment({ containerId: env.containerId, ifname: env.ifname });
  if (!allocation) throw fail(`no address is allocated to ${env.containerId}/${env.ifname}`);
  const { ip } = allocation.value;
  const prev = conf.prevResult as { ips?: { address?: string }[] } | undefined;
  const prevIp = prev?.ips?.[0]?.address?.split('/')[0];
  if (prevIp !== undefined && prevIp !== ip) throw fail(`prevResult says ${prevIp} but the IPAM holds ${ip}`);
  const ns = netnsStatus(env.netns);
  if (ns !== 'ok') throw new CniError(CniCode.unknownContainer, `network namespace ${env.netns} is gone`);
  const segment = (await ipam.listSegments()).find((s) => contains(parseCidr(s.cidr), parseIp(ip)));
  if (!segment) throw fail(`the segment of ${ip} is gone`);
  const state = await inspectPodInterface(env.netns, env.ifname);
  if (!state.exists) throw fail(`${env.ifname} is missing from ${env.netns}`);
  if (!state.up) throw fail(`${env.ifname} is down`);
  const prefix = parseCidr(segment.cidr).prefix;
  if (!state.addresses.some((a) => a.ip === ip && a.prefix === prefix)) {
    throw fail(
      `${env.ifname} does not have ${ip}/${prefix} (has ${state.addresses.map((a) => `${a.ip}/${a.prefix}`).join(', ') || 'no IPv4 address'})`,
    );
  }
  if (state.defaultGateway !== segment.gateway) {
    throw fail(`default route is via ${state.defaultGateway ?? 'nothing'}, not ${segment.gateway}`);
  }
  const hostVeth = hostVethName(env.containerId, env.ifname);
  if (!linkExists(hostVeth)) throw fail(`host interface ${hostVeth} is missing`);
  if (conf.bridgeKind === 'linux' && linkMaster(hostVeth) !== conf.bridge) {
    throw fail(`host interface ${hostVeth} is not on bridge ${conf.bridge}`);
  }
}

async function gc(conf: NetConf, ipam: Ipam, node: string, now: Date): Promise<void> {
  const valid = conf['cni.dev/valid-attachments'];
  if (!valid) return; // without the list nothing is known to be stale
  const keep = new Set(valid.map((a) => `${a.containerID}/${a.ifname}`));
  const { items } = await ipam.listAllocations();
  const stale = items.filter(
    (a) =>
      a.value.node === node &&
      !keep.has(`${a.value.containerId}/${a.value.ifname}`) &&
      now.getTime() - Date.parse(a.value.createdAt) >= (conf.gcGraceSeconds ?? GC_GRACE_MS / 1000) * 1000,
  );
  for (const a of stale) {
    try {
      await ipam.releaseAddress(a.value.ip, { expectedRevision: a.modRevision });
    } catch (error) {
      // Released or re-allocated meanwhile: no longer ours to collect.
      if (!(error instanceof ConflictError || error instanceof NotFoundError)) throw error;
    }
    await tearDownPodInterface(hostVethName(a.value.containerId, a.value.ifname));
  }
}

async function status(ipam: Ipam): Promise<void> {
  const segments = await ipam.listSegments();
  if (!segments.some((s) => s.state === 'active')) {
    throw new CniError(
      CniCode.notAvailable,
      `cell ${ipam.cell} has no active segment: no address can be given`,
    );
  }
}

function success(result: unknown): CniResponse {
  return { exitCode: 0, stdout: `${JSON.stringify(result)}\n` };
}

/** Maps what went wrong to the spec's error codes. */
export function toCniError(error: unknown): CniError {
  if (error instanceof CniError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ExhaustedError) return new CniError(CniCode.exhausted, message);
  if (error instanceof ContentionError || error instanceof UnavailableError) {
    return new CniError(CniCode.tryAgainLater, message);
  }
  if (error instanceof CommandError) {
    return new CniError(CniCode.networkSetup, 'setting up the pod interface failed', message);
  }
  if (error instanceof DomainError) return new CniError(CniCode.ipamState, message);
  if (
    error instanceof Error &&
    /etcd|GRPC|ECONNREFUSED|deadline|unavailable/i.test(`${error.name} ${message}`)
  ) {
    return new CniError(CniCode.tryAgainLater, 'etcd is not answering', message);
  }
  return new CniError(CniCode.ipamState, 'internal error', message);
}
