/** One instance as the load balancer sees it. */
export interface Endpoint {
  cell: string;
  version: string;
  /** The pod's name. */
  pod: string;
  /** The pod's IP. */
  ip: string;
  port: number;
}

/**
 * Where the gray upgrade and scale-downs meet the load balancer (SLB + discovery): new
 * instances must be routable before old ones go, and instances must be out of every
 * upstream, confirmed by the SLB agents, before they are stopped. Both calls are checks
 * the operation driver repeats until they say yes, so an implementation never blocks.
 */
export interface TrafficGate {
  /** True once every endpoint is in the application's upstreams on every SLB agent. */
  routable(application: string, endpoints: Endpoint[]): Promise<boolean>;
  /**
   * Asks for whole versions and single endpoints to be taken out of the application's
   * upstreams (and kept out while they exist); true once every agent confirmed it.
   */
  drain(application: string, target: DrainTarget): Promise<boolean>;
  /** Forgets a drain once its instances are gone (or to let them serve again). */
  release(application: string, target: DrainTarget): Promise<void>;
}

/** What to keep out of the load balancer: every instance of some versions, and single endpoints. */
export interface DrainTarget {
  versions: string[];
  endpoints: Endpoint[];
}

/**
 * The gate while an application has no domain on any SLB group: nothing routes to it
 * through a load balancer, so everything is at once routable and drained.
 */
export const noLoadBalancer: TrafficGate = {
  routable: async () => true,
  drain: async () => true,
  release: async () => {},
};
