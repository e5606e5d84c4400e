/** What the leak check needs to know about one pod. */
export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  /** Pending, Running, Succeeded, Failed, Unknown. */
  phase: string;
  /** status.podIPs (empty until the kubelet reports the sandbox's address). */
  ips: string[];
  /** spec.nodeName, if scheduled. */
  node: string | undefined;
}

/**
 * The cell's pods as the apiserver has them. `listPods` may be a slightly old snapshot;
 * `getPod` must read fresh (no cache), because the leak check trusts it last.
 */
export interface PodLister {
  listPods(): Promise<PodInfo[]>;
  getPod(namespace: string, name: string): Promise<PodInfo | undefined>;
}
