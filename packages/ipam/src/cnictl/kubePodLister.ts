import { type RequestOptions, request } from 'node:https';
import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { PodInfo, PodLister } from './podLister.ts';

/** Pods from a cell's apiserver, through the official client and a kubeconfig. */
export class KubePodLister implements PodLister {
  readonly #config: KubeConfig;
  readonly #api: CoreV1Api;
  readonly #pageSize: number;

  private constructor(config: KubeConfig, pageSize: number) {
    this.#config = config;
    this.#api = config.makeApiClient(CoreV1Api);
    this.#pageSize = pageSize;
  }

  static fromKubeconfig(path: string, options: { pageSize?: number } = {}): KubePodLister {
    const config = new KubeConfig();
    config.loadFromFile(path);
    return KubePodLister.fromConfig(config, options);
  }

  /** From a loaded kubeconfig (core holds cells' kubeconfigs in memory, never in files). */
  static fromConfig(config: KubeConfig, options: { pageSize?: number } = {}): KubePodLister {
    return new KubePodLister(config, options.pageSize ?? 500);
  }

  /**
   * Every pod of every namespace, read in pages (one consistent snapshot). The pages are
   * read as plain JSON with the kubeconfig's credentials: only five fields are needed,
   * and skipping the typed client's model conversion makes the list about a third
   * faster (3,000 pods: 0.6-1.3 s instead of 1.1-1.7 s here).
   */
  async listPods(): Promise<PodInfo[]> {
    const server = this.#config.getCurrentCluster()?.server;
    if (!server) throw new Error('the kubeconfig names no current cluster');
    const options: RequestOptions = {};
    await this.#config.applyToHTTPSOptions(options);
    const pods: PodInfo[] = [];
    let next: string | undefined;
    do {
      const url = new URL('/api/v1/pods', server);
      url.searchParams.set('limit', String(this.#pageSize));
      if (next) url.searchParams.set('continue', next);
      const page = (await getJson(url, options)) as { items: V1Pod[]; metadata?: { continue?: string } };
      for (const pod of page.items) pods.push(toPodInfo(pod));
      next = page.metadata?.continue || undefined;
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

function getJson(url: URL, options: RequestOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ...options, method: 'GET', headers: { ...options.headers, accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200)
            reject(new Error(`GET ${url.pathname}: ${res.statusCode} ${body.slice(0, 300)}`));
          else resolve(JSON.parse(body));
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`GET ${url.pathname}: no answer in 60 s`)));
    req.on('error', reject);
    req.end();
  });
}
