import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { PodInfo, PodLister } from './podLister.ts';

/** Pods from a cell's apiserver, through the official client and a kubeconfig. */
export class KubePodLister implements PodLister {
  readonly #api: CoreV1Api;
  readonly #pageSize: number;

  private constructor(api: CoreV1Api, pageSize: number) {
    this.#api = api;
    this.#pageSize = pageSize;
  }

  static fromKubeconfig(path: string, options: { pageSize?: number } = {}): KubePodLister {
    const config = new KubeConfig();
    config.loadFromFile(path);
    return new KubePodLister(config.makeApiClient(CoreV1Api), options.pageSize ?? 500);
  }

  /** Every pod of every namespace, read in pages (one consistent snapshot). */
  async listPods(): Promise<PodInfo[]> {
    const pods: PodInfo[] = [];
    let next: string | undefined;
    do {
      const page = await this.#api.listPodForAllNamespaces({
        limit: this.#pageSize,
        ...(next ? { _continue: next } : {}),
      });
      for (const pod of page.items) pods.push(toPodInfo(pod));
      next = page.metadata?._continue || undefined;
    } while (next);
    return pods;
  }

  /** One pod read from the apiserver now (quorum read), or undefined if it does not exist. */
  async getPod(namespace: string, name: string): Promise<PodInfo | undefined> {
    try {
      return toPodInfo(await this.#api.readNamespacedPod({ namespace, name }));
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }
}

function toPodInfo(pod: V1Pod): PodInfo {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => Boolean(ip));
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ips,
    node: pod.spec?.nodeName,
  };
}
