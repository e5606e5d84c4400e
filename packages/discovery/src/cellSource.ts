import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type V1EndpointSlice,
  type V1Pod,
} from '@kubernetes/client-node';
import { LABELS } from '@leengine/kube';
import type { Logger } from 'pino';
import type { PodView, SliceView } from './endpoints.ts';
import { Reflector } from './reflector.ts';

export interface CellSourceOptions {
  cell: string;
  kubeConfig: KubeConfig;
  log: Logger;
  /** An application's addresses in this cell may have changed. */
  onChange(application: string): void;
  /** Both watches have listed once. */
  onSynced(): void;
}

/**
 * One cell as discovery sees it: the EndpointSlices of Services labelled with an
 * application (the EndpointSlice controller copies the Service's labels onto its
 * slices) and the application's pods (for their version and deletion mark).
 */
export class CellSource {
  readonly cell: string;
  readonly #slices: Reflector<V1EndpointSlice, SliceView>;
  readonly #pods: Reflector<V1Pod, PodView>;

  private constructor(options: CellSourceOptions) {
    this.cell = options.cell;
    const discovery = options.kubeConfig.makeApiClient(DiscoveryV1Api);
    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    const log = options.log.child({ cell: options.cell });
    let pending = 2;
    const synced = () => {
      if (--pending === 0) options.onSynced();
    };
    this.#slices = Reflector.start<V1EndpointSlice, SliceView>({
      kubeConfig: options.kubeConfig,
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      labelSelector: LABELS.application,
      list: (params) => discovery.listEndpointSliceForAllNamespaces(params),
      project: projectSlice,
      onChange: (_key, before, after) => {
        const application = after?.application ?? before?.application;
        if (application) options.onChange(application);
      },
      onSynced: synced,
      log,
    });
    this.#pods = Reflector.start<V1Pod, PodView>({
      kubeConfig: options.kubeConfig,
      path: '/api/v1/pods',
      labelSelector: LABELS.version,
      list: (params) => core.listPodForAllNamespaces(params),
      project: (pod) => ({
        version: pod.metadata?.labels?.[LABELS.version] ?? '',
        terminating: Boolean(pod.metadata?.deletionTimestamp),
      }),
      onChange: (key, before, after) => {
        // Only the deletion mark and the version matter; status churn is ignored.
        if (before && after && before.terminating === after.terminating && before.version === after.version)
          return;
        options.onChange(key.split('/')[0] ?? '');
      },
      onSynced: synced,
      log,
    });
  }

  static start(options: CellSourceOptions): CellSource {
    return new CellSource(options);
  }

  get synced(): boolean {
    return this.#slices.synced && this.#pods.synced;
  }

  /** The application's slices in this cell (its namespace has the application's name). */
  slicesOf(application: string): SliceView[] {
    const out: SliceView[] = [];
    for (const [key, slice] of this.#slices.items) {
      if (slice.application === application && key.startsWith(`${application}/`)) out.push(slice);
    }
    return out;
  }

  get pods(): ReadonlyMap<string, PodView> {
    return this.#pods.items;
  }

  /** Applications with at least one slice here. */
  applications(): Set<string> {
    return new Set([...this.#slices.items.values()].map((s) => s.application));
  }

  async stop(): Promise<void> {
    await Promise.all([this.#slices.stop(), this.#pods.stop()]);
  }
}

function projectSlice(slice: V1EndpointSlice): SliceView {
  const ports = slice.ports ?? [];
  const port = (ports.find((p) => p.name === 'http') ?? ports.find((p) => (p.protocol ?? 'TCP') === 'TCP'))
    ?.port;
  return {
    application: slice.metadata?.labels?.[LABELS.application] ?? '',
    port: port ?? undefined,
    endpoints:
      slice.addressType !== 'IPv4'
        ? []
        : (slice.endpoints ?? []).flatMap((e) =>
            e.addresses.map((ip) => ({
              ip,
              ready: e.conditions?.ready !== false,
              terminating: e.conditions?.terminating ?? false,
              pod: e.targetRef?.kind === 'Pod' ? e.targetRef.name : undefined,
            })),
          ),
  };
}
