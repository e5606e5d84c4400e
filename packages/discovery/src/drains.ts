import { setTimeout as sleep } from 'node:timers/promises';
import { parseSlbKey, SLB_ROOT, SlbStore, type Upstream } from '@leengine/slb';
import type { Etcd3 } from 'etcd3';
import { z } from 'zod';
import { type Drain, isDrained } from './endpoints.ts';

/** `/leengine/discovery/drains/{application}`: versions and pods kept out of the upstreams. */
export const DRAINS_PREFIX = '/leengine/discovery/drains/';

export const DrainSchema = z.object({
  versions: z.array(z.string().max(63)).max(100).default([]),
  pods: z.array(z.string().max(253)).max(10_000).default([]),
  addresses: z.array(z.string().max(100)).max(10_000).default([]),
});

export function drainKey(application: string): string {
  return `${DRAINS_PREFIX}${application}`;
}

/** Adds versions and pods to an application's drain (compare-and-swap, retried on races). */
export async function addDrain(client: Etcd3, application: string, add: Partial<Drain>): Promise<number> {
  return updateDrain(client, application, (d) => ({
    versions: [...new Set([...d.versions, ...(add.versions ?? [])])],
    pods: [...new Set([...d.pods, ...(add.pods ?? [])])],
    addresses: [...new Set([...d.addresses, ...(add.addresses ?? [])])],
  }));
}

/** Takes versions and pods out of the drain (after they were deleted, or to put them back). */
export async function removeDrain(
  client: Etcd3,
  application: string,
  remove: Partial<Drain>,
): Promise<number> {
  return updateDrain(client, application, (d) => ({
    versions: d.versions.filter((v) => !remove.versions?.includes(v)),
    pods: d.pods.filter((p) => !remove.pods?.includes(p)),
    addresses: d.addresses.filter((a) => !remove.addresses?.includes(a)),
  }));
}

async function updateDrain(client: Etcd3, application: string, change: (d: Drain) => Drain): Promise<number> {
  const key = drainKey(application);
  for (let attempt = 0; attempt < 10; attempt++) {
    const response = await client.get(key).exec();
    const kv = response.kvs[0];
    const current = kv
      ? DrainSchema.parse(JSON.parse(kv.value.toString()))
      : { versions: [], pods: [], addresses: [] };
    const next = change(current);
    const empty = next.versions.length === 0 && next.pods.length === 0 && next.addresses.length === 0;
    const txn = client.if(key, 'Mod', '==', kv ? Number(kv.mod_revision) : 0);
    const result = await (empty
      ? txn.then(client.delete().key(key))
      : txn.then(client.put(key).value(JSON.stringify(next)))
    ).commit();
    if (result.succeeded) return Number(result.header.revision);
  }
  throw new Error(`drain of ${application}: too many concurrent changes`);
}

/**
 * Takes versions or pods out of an application's upstreams and waits until every
 * agent of every SLB group serving the application has applied that (the order the
 * platform keeps for scale-down and gray upgrade: out of the load balancer first, then
 * terminate). Resolves with the highest upstream revision confirmed; rejects on timeout,
 * in which case the caller must not terminate the pods.
 */
export async function drainAndConfirm(options: {
  client: Etcd3;
  application: string;
  versions?: string[];
  pods?: string[];
  timeoutMs?: number;
}): Promise<number> {
  const { client, application } = options;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const drain: Drain = { versions: options.versions ?? [], pods: options.pods ?? [], addresses: [] };
  await addDrain(client, application, drain);
  const store = SlbStore.create({ client });
  for (;;) {
    const { clean, byGroup } = await upstreamState(store, application, (u) => isDrained(drain, u));
    if (clean) {
      let confirmed = 0;
      for (const [group, revision] of byGroup) {
        await store.waitForAgents(group, revision, Math.max(1, deadline - Date.now()));
        confirmed = Math.max(confirmed, revision);
      }
      return confirmed;
    }
    if (Date.now() > deadline)
      throw new Error(`discovery did not drain ${application} in time (is it running?)`);
    await sleep(10);
  }
}

/**
 * Where an application's upstreams stand: `clean` when no upstream of any domain bound to
 * it matches `unwanted`; per group, the newest upstream revision its agents must apply.
 */
export async function upstreamState(
  store: SlbStore,
  application: string,
  unwanted: (u: Upstream) => boolean,
): Promise<{ clean: boolean; byGroup: Map<string, number>; upstreams: Upstream[][] }> {
  const byGroup = new Map<string, number>();
  const upstreams: Upstream[][] = [];
  let clean = true;
  for (const { group, domain } of await boundDomains(store.client, application)) {
    const current = await store.getUpstreams(group, domain);
    if (current?.value.some(unwanted)) clean = false;
    upstreams.push(current?.value ?? []);
    byGroup.set(group, Math.max(byGroup.get(group) ?? 0, current?.modRevision ?? 0));
  }
  return { clean, byGroup, upstreams };
}

async function boundDomains(
  client: Etcd3,
  application: string,
): Promise<{ group: string; domain: string }[]> {
  const all = await client.getAll().prefix(SLB_ROOT).strings();
  const out: { group: string; domain: string }[] = [];
  for (const [key, raw] of Object.entries(all)) {
    const parsed = parseSlbKey(key);
    if (parsed?.kind !== 'config') continue;
    try {
      if ((JSON.parse(raw) as { application?: unknown }).application === application)
        out.push({ group: parsed.group, domain: parsed.domain });
    } catch {
      // not JSON: not ours to judge here
    }
  }
  return out;
}
