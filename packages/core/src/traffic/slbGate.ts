import { SlbTrafficGate } from '@leengine/discovery';
import { Etcd3 } from 'etcd3';
import type { TrafficGate } from './trafficGate.ts';

/** The SLB as the gate: discovery's upstreams and drains in etcd, confirmed by every SLB agent. */
export interface SlbGate extends TrafficGate {
  /** Ends the gate's etcd client. */
  close(): void;
}

/**
 * Upgrades and scale-downs through the SLB (`SlbTrafficGate` of `@leengine/discovery`):
 * routable once every agent of the groups serving the application's domains has the new
 * addresses, drained once the old ones are out everywhere and confirmed. An application
 * without a domain is routable and drained at once.
 */
export function slbGate(endpoints: string[]): SlbGate {
  const client = new Etcd3({ hosts: endpoints });
  const gate = SlbTrafficGate.create({ client });
  return {
    routable: (application, addresses) => gate.routable(application, addresses),
    drain: (application, target) => gate.drain(application, target),
    release: (application, target) => gate.release(application, target),
    close: () => client.close(),
  };
}
