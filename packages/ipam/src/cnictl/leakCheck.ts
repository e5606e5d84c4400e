import type { Ipam } from '../ipam.ts';
import type { Allocation, Versioned } from '../model.ts';
import type { PodInfo, PodLister } from './podLister.ts';

export type LeakReason =
  /** No pod of that namespace/name exists. */
  | 'pod-gone'
  /** A pod of that name exists, but it is another one (another uid). */
  | 'pod-replaced'
  /** The pod runs with another address: this one is from an earlier sandbox (a kubelet or runtime crash). */
  | 'stale-sandbox';

export interface Leak {
  ip: string;
  reason: LeakReason;
  allocation: Allocation;
  /** The allocation's etcd revision: release only if it is still this one. */
  revision: string;
}

export interface CheckReport {
  cell: string;
  checkedAt: string;
  allocations: number;
  pods: number;
  /** Allocations younger than the grace period, not judged yet. */
  young: number;
  /** Allocations without a pod name (not made through a Kubernetes runtime), not judged. */
  unattributed: number;
  /** Candidates a fresh read of the pod (or of the allocation) showed to be alive. */
  dismissed: number;
  leaks: Leak[];
}

export interface CheckOptions {
  /** Allocations younger than this are never reported: their pod may still be starting. */
  graceMs: number;
  now?: () => Date;
  /** Fresh reads at a time, for the candidates (default 16). */
  concurrency?: number;
}

/** Default grace period: a pod normally reports its address within seconds; 10 minutes is far beyond. */
export const DEFAULT_GRACE_MS = 10 * 60_000;

/**
 * Compares the cell's allocations with its pods and reports the addresses held for pods
 * that are gone (the seed's `cnictl check`). Allocations and pods are listed at the
 * same time, so a pod created between the two lists looks like a leak: every candidate
 * is therefore judged again against a fresh read of its pod and of its allocation, and
 * reported only if it is still a leak. A pod that exists is never reported, nor is an
 * allocation younger than the grace period.
 */
export async function checkLeaks(ipam: Ipam, pods: PodLister, options: CheckOptions): Promise<CheckReport> {
  const now = (options.now ?? (() => new Date()))();
  const [allocations, podList] = await Promise.all([ipam.listAllocations(), pods.listPods()]);
  const byName = new Map(podList.map((p) => [`${p.namespace}/${p.name}`, p]));
  let young = 0;
  let unattributed = 0;
  const candidates: Versioned<Allocation>[] = [];
  for (const a of allocations.items) {
    if (now.getTime() - Date.parse(a.value.createdAt) < options.graceMs) young++;
    else if (!a.value.namespace || !a.value.pod) unattributed++;
    else if (verdict(a.value, byName.get(`${a.value.namespace}/${a.value.pod}`))) candidates.push(a);
  }
  const confirmed = await mapLimited(candidates, options.concurrency ?? 16, async (a) => {
    const [pod, current] = await Promise.all([
      pods.getPod(a.value.namespace, a.value.pod),
      ipam.getAllocation(a.value.ip),
    ]);
    if (current?.modRevision !== a.modRevision) return undefined; // released or re-allocated meanwhile
    const reason = verdict(a.value, pod);
    return reason && { ip: a.value.ip, reason, allocation: a.value, revision: a.modRevision };
  });
  const leaks = confirmed.filter((l) => l !== undefined);
  return {
    cell: ipam.cell,
    checkedAt: now.toISOString(),
    allocations: allocations.items.length,
    pods: podList.length,
    young,
    unattributed,
    dismissed: candidates.length - leaks.length,
    leaks,
  };
}

/** Why the allocation is a leak given what is known of its pod, or undefined if it is not. */
export function verdict(allocation: Allocation, pod: PodInfo | undefined): LeakReason | undefined {
  if (!pod) return 'pod-gone';
  if (allocation.podUid && pod.uid && pod.uid !== allocation.podUid) return 'pod-replaced';
  // Only a running pod's reported address is authoritative; while it starts (or after it
  // ends) the status may lag behind the sandbox.
  // podIPs names the primary interface's address only.
  const primary = allocation.ifname === 'eth0';
  if (primary && pod.phase === 'Running' && pod.ips.length > 0 && !pod.ips.includes(allocation.ip)) {
    return 'stale-sandbox';
  }
  return undefined;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
