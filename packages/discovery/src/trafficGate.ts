import { SlbStore } from '@leengine/slb';
import type { Etcd3 } from 'etcd3';
import { addDrain, upstreamState } from './drains.ts';
import { addressKey } from './endpoints.ts';

/** One instance as the load balancer sees it (the shape core's operations use). */
export interface GateEndpoint {
  cell: string;
  version: string;
  ip: string;
  port: number;
}

/**
 * The gray upgrade's and scale-down's view of the SLB, as checks an operation driver
 * repeats until they say yes (nothing here blocks):
 * - `routable`: every endpoint is in the upstreams of every domain bound to the
 *   application, and every agent of those domains' groups has applied them;
 * - `drain`: asks discovery to keep the endpoints out of the upstreams (a drain entry
 *   in etcd), and says yes once they are out everywhere and every agent confirmed.
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

  async drain(application: string, endpoints: GateEndpoint[]): Promise<boolean> {
    const keys = new Set(endpoints.map((e) => addressKey(e.cell, e.ip, e.port)));
    await addDrain(this.#client, application, { addresses: [...keys] });
    const state = await upstreamState(this.#store, application, (u) =>
      keys.has(addressKey(u.cell, u.ip, u.port)),
    );
    return state.clean && (await this.#confirmed(state.byGroup));
  }

  async #confirmed(byGroup: Map<string, number>): Promise<boolean> {
    for (const [group, revision] of byGroup) {
      if ((await this.#store.agentsBehind(group, revision)).length > 0) return false;
    }
    return true;
  }
}
