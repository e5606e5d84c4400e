import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1Pod,
} from '@kubernetes/client-node';
import { FIELD_MANAGER, LABELS } from './labels.ts';

/** A container (pod) of an application as operators see it: the seed's IP list. */
export interface Container {
  cell: string;
  name: string;
  version: string;
  node: string;
  ip: string;
  phase: string;
  ready: boolean;
  restarts: number;
  startedAt: string | null;
  /** Why it is not ready (waiting/terminated reason), if known. */
  reason: string | null;
}

/** How far one version's Deployment is in one cell. */
export interface VersionStatus {
  exists: boolean;
  desired: number;
  ready: number;
  updated: number;
  /** The Deployment controller has seen the latest spec. */
  observed: boolean;
}

/** A Kubernetes event of the application's namespace. */
export interface CellEvent {
  cell: string;
  uid: string;
  type: string;
  reason: string;
  message: string;
  object: string;
  count: number;
  lastSeen: string;
}

/** Access to one cell's apiserver for what LeEngine manages there. */
export class CellClient {
  readonly cell: string;
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly objects: KubernetesObjectApi;

  private constructor(cell: string, config: KubeConfig) {
    this.cell = cell;
    this.config = config;
    this.core = config.makeApiClient(CoreV1Api);
    this.apps = config.makeApiClient(AppsV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(config);
  }

  /** From a kubeconfig's text (as stored for a cell). */
  static fromKubeconfig(cell: string, kubeconfig: string): CellClient {
    const config = new KubeConfig();
    config.loadFromString(kubeconfig);
    return new CellClient(cell, config);
  }

  /** Server-side apply: LeEngine owns the fields it sets; applying twice changes nothing. */
  async apply<T extends KubernetesObject>(object: T): Promise<T> {
    return this.objects.patch(
      object,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  /** Deletes an object; a missing one counts as deleted. Returns true if it existed. */
  async remove(object: KubernetesObject): Promise<boolean> {
    try {
      await this.objects.delete(object, undefined, undefined, undefined, undefined, 'Background');
      return true;
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw error;
    }
  }

  /** Reads a version's Deployment status (exists: false when there is none). */
  async versionStatus(application: string, version: string): Promise<VersionStatus> {
    try {
      const d = await this.apps.readNamespacedDeployment({ namespace: application, name: version });
      return {
        exists: true,
        desired: d.spec?.replicas ?? 0,
        ready: d.status?.readyReplicas ?? 0,
        updated: d.status?.updatedReplicas ?? 0,
        observed: (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0),
      };
    } catch (error) {
      if (statusCode(error) === 404)
        return { exists: false, desired: 0, ready: 0, updated: 0, observed: true };
      throw error;
    }
  }

  /** The application's containers in this cell. */
  async containers(application: string): Promise<Container[]> {
    try {
      const pods = await this.core.listNamespacedPod({
        namespace: application,
        labelSelector: `${LABELS.application}=${application}`,
      });
      return pods.items.map((pod) => toContainer(this.cell, pod));
    } catch (error) {
      if (statusCode(error) === 404) return [];
      throw error;
    }
  }

  /** Events of the application's namespace. */
  async events(application: string): Promise<CellEvent[]> {
    try {
      const events = await this.core.listNamespacedEvent({ namespace: application });
      return events.items.map((e) => ({
        cell: this.cell,
        uid: e.metadata?.uid ?? '',
        type: e.type ?? 'Normal',
        reason: e.reason ?? '',
        message: e.message ?? '',
        object: `${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''}`,
        count: e.count ?? 1,
        lastSeen: toIso(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp),
      }));
    } catch (error) {
      if (statusCode(error) === 404) return [];
      throw error;
    }
  }

  /** The last lines of a container's log. */
  async logs(application: string, pod: string, tailLines = 200): Promise<string> {
    return this.core.readNamespacedPodLog({ namespace: application, name: pod, container: 'app', tailLines });
  }
}

function toIso(value: Date | string | undefined): string {
  if (!value) return '';
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

function toContainer(cell: string, pod: V1Pod): Container {
  const status = pod.status?.containerStatuses?.[0];
  const state = status?.state;
  return {
    cell,
    name: pod.metadata?.name ?? '',
    version: pod.metadata?.labels?.[LABELS.version] ?? '',
    node: pod.spec?.nodeName ?? '',
    ip: pod.status?.podIP ?? '',
    phase: pod.metadata?.deletionTimestamp ? 'Terminating' : (pod.status?.phase ?? 'Pending'),
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    restarts: status?.restartCount ?? 0,
    startedAt: pod.status?.startTime ? toIso(pod.status.startTime) : null,
    reason: state?.waiting?.reason ?? state?.terminated?.reason ?? null,
  };
}

/** The HTTP status of a client-node error, if it has one. */
export function statusCode(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
  for (const v of [e.code, e.statusCode, e.response?.statusCode]) if (typeof v === 'number') return v;
  return undefined;
}
