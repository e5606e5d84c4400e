import type { Upstream } from '@leengine/slb';

/** What discovery keeps of an EndpointSlice. */
export interface SliceView {
  application: string;
  port: number | undefined;
  endpoints: { ip: string; ready: boolean; terminating: boolean; pod: string | undefined }[];
}

/** What discovery keeps of a pod. */
export interface PodView {
  version: string;
  terminating: boolean;
}

/** Versions, pods or addresses of an application taken out of its upstreams before they stop. */
export interface Drain {
  versions: string[];
  pods: string[];
  /** `cell/ip:port` */
  addresses: string[];
}

/** The drain's name for one address. */
export function addressKey(cell: string, ip: string, port: number): string {
  return `${cell}/${ip}:${port}`;
}

/** True when the drain takes this upstream out. */
export function isDrained(
  drain: Drain | undefined,
  u: { cell: string; ip: string; port: number; version: string; pod?: string | undefined },
): boolean {
  if (!drain) return false;
  return (
    drain.versions.includes(u.version) ||
    (u.pod !== undefined && drain.pods.includes(u.pod)) ||
    drain.addresses.includes(addressKey(u.cell, u.ip, u.port))
  );
}

/**
 * The upstreams of one application in one cell: ready addresses of its Service's
 * EndpointSlices, without terminating pods (by the slice's condition or the pod's
 * deletion mark, whichever discovery saw first) and without drained versions or pods.
 * Pure.
 */
export function cellUpstreams(
  cell: string,
  namespace: string,
  slices: Iterable<SliceView>,
  pods: ReadonlyMap<string, PodView>,
  drain: Drain | undefined,
): Upstream[] {
  const out: Upstream[] = [];
  for (const slice of slices) {
    if (slice.port === undefined) continue;
    for (const endpoint of slice.endpoints) {
      if (!endpoint.ready || endpoint.terminating) continue;
      const pod = endpoint.pod ? pods.get(`${namespace}/${endpoint.pod}`) : undefined;
      if (pod?.terminating) continue;
      const upstream: Upstream = {
        ip: endpoint.ip,
        port: slice.port,
        weight: 1,
        cell,
        version: pod?.version ?? '',
        ...(endpoint.pod ? { pod: endpoint.pod } : {}),
      };
      if (!isDrained(drain, upstream)) out.push(upstream);
    }
  }
  return out;
}

/** A stable order, so equal sets of addresses give equal JSON (and no etcd write). */
export function sortUpstreams(upstreams: Upstream[]): Upstream[] {
  const key = (u: Upstream) =>
    `${u.cell}\u0000${u.ip
      .split('.')
      .map((o) => o.padStart(3, '0'))
      .join('.')}\u0000${u.port}`;
  const seen = new Set<string>();
  return upstreams
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    .filter((u) => {
      const k = key(u);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}
