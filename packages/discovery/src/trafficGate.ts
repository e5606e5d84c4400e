import { SlbStore } from '@leengine/slb';
import type { Etcd3 } from 'etcd3';
import { addDrain, removeDrain, upstreamState } from './drains.ts';
import { addressKey, type Drain, isDrained } from './endpoints.ts';

/** One instance as the load balancer sees it (the shape of core's `Endpoint`). */
export interface GateEndpoint {
  cell: string;
  version: string;
  pod?: string;
  ip: string;
  port: number;
}

/** What to take out of an application's upstreams: whole versions and single instances. */
export interface GateDrainTarget {
  versions: string[];
  endpoints: GateEndpoint[];
}

/**
 * The gray upgrade's and scale-down's view of the SLB, as checks an operation driver
 * repeats until they say yes (nothing here blocks); the shape of core's `TrafficGate`:
 * - `routable`: every endpoint is in the upstreams of every domain bound to the
 *   application, and every agent of those domains' groups has applied them;
 * - `drain`: asks discovery to keep the versions and endpoints out of the upstreams (a
 *   drain entry in etcd), and says yes once they are out everywhere and confirmed;
 * - `release`: forgets the drain (discovery also forgets drained instances once gone).
 * An application with no domain is routable and drained at once (no load balancer).
 */
export class SlbTrafficGate {
  readonly #store: SlbStore;
  readonly #client: Etcd3;

  private constructor(client: Etcd3) {
    this.#client = client;
    this.#store = SlbStore.create({ client });
  }

  static create(deps: { client: Etcd3 }): SlbTrafficGate {
    return new SlbTrafficGate(deps.client);
  }

  async routable(application: string, endpoints: GateEndpoint[]): Promise<boolean> {
    const state = await upstreamState(this.#store, application, () => false);
    for (const upstreams of state.upstreams) {
      const present = new Set(upstreams.map((u) => addressKey(u.cell, u.ip, u.port)));
      if (!endpoints.every((e) => present.has(addressKey(e.cell, e.ip, e.port)))) return false;
    }
    return this.#confirmed(state.byGroup);
  }

  async drain(application: string, target: GateDrainTarget): Promise<boolean> {
    const drain = drainOf(target);
    await addDrain(this.#client, application, drain);
    const state = await upstreamState(this.#store, application, (u) => isDrained(drain, u));
    return state.clean && (await this.#confirmed(state.byGroup));
  }

  async release(application: string, target: GateDrainTarget): Promise<void> {
    await removeDrain(this.#client, application, drainOf(target));
  }

  async #confirmed(byGroup: Map<string, number>): Promise<boolean> {
    for (const [group, revision] of byGroup) {
      if ((await this.#store.agentsBehind(group, revision)).length > 0) return false;
    }
    return true;
  }
}

function drainOf(target: GateDrainTarget): Drain {
  return {
    versions: target.versions,
    pods: [],
    addresses: target.endpoints.map((e) => addressKey(e.cell, e.ip, e.port)),
  };
}
