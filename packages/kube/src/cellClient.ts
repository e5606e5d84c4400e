import type { IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import {
  AppsV1Api,
  CoreV1Api,
  type CoreV1Event,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type RequestContext,
  type V1Deployment,
  type V1Pod,
  VersionApi,
} from '@kubernetes/client-node';
import { type CellCapacity, readCapacity } from './capacity.ts';
import { ANNOTATIONS, FIELD_MANAGER, LABELS, MANAGED_BY } from './labels.ts';
import { type PodExecResult, podExec } from './podExec.ts';
import type { WatchSource } from './resourceWatch.ts';
import { deploymentSource, eventSource, podSource } from './watchSources.ts';

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

/** A version's Deployment in a cell, as listed: its status and the spec hash it was applied from. */
export interface DeploymentState extends VersionStatus {
  version: string;
  specHash: string | undefined;
  /** Pods of the Deployment that are not terminating (status.replicas). */
  current: number;
}

/** A namespace's state: absent, usable, or being deleted (nothing can be created in it). */
export type NamespaceState = 'absent' | 'active' | 'terminating';

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

/** How long one request to a cell's apiserver may take, answer included, by default. */
export const CELL_REQUEST_TIMEOUT_MS = 30_000;

/**
 * A kubeconfig whose every API request carries a deadline: an apiserver that accepts
 * the connection and never answers (stopped, overloaded, a half-open socket) fails the
 * call after `requestTimeoutMs` instead of holding it, and whatever waits on it, forever.
 * Watches set their own signal (the client's connect and inactivity timeout) and keep it.
 */
class DeadlineKubeConfig extends KubeConfig {
  readonly requestTimeoutMs: number;

  constructor(requestTimeoutMs: number) {
    super();
    this.requestTimeoutMs = requestTimeoutMs;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    if (context.getSignal()) return;
    // An Error as the reason, not AbortSignal.timeout's DOMException: client-node rewrites
    // the message of some errors, and a DOMException's message cannot be set.
    const controller = new AbortController();
    const ms = this.requestTimeoutMs;
    setTimeout(() => controller.abort(new Error(`no answer from the apiserver in ${ms} ms`)), ms).unref();
    context.setSignal(controller.signal);
  }
}

/** Access to one cell's apiserver for what LeEngine manages there. */
export class CellClient {
  readonly cell: string;
  readonly config: DeadlineKubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly objects: KubernetesObjectApi;
  readonly #version: VersionApi;

  private constructor(cell: string, config: DeadlineKubeConfig) {
    this.cell = cell;
    this.config = config;
    this.core = config.makeApiClient(CoreV1Api);
    this.apps = config.makeApiClient(AppsV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(config);
    this.#version = config.makeApiClient(VersionApi);
  }

  /** The apiserver's URL from the kubeconfig. */
  get server(): string {
    return this.config.getCurrentCluster()?.server ?? '';
  }

  /** Asks the apiserver for its version: resolves with it, or rejects (down, refused, slow). */
  async ping(timeoutMs = 5000): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const info = await Promise.race([
        this.#version.getCode(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return info.gitVersion;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The cluster's identity: the uid of its kube-system namespace, which lives as long as
   * the cluster (the id Kubernetes tools use for a cluster).
   */
  async clusterId(): Promise<string> {
    const ns = await this.core.readNamespace({ name: 'kube-system' });
    const uid = ns.metadata?.uid;
    if (!uid) throw new Error('the kube-system namespace has no uid');
    return uid;
  }

  /** From a kubeconfig's text (as stored for a cell); each request fails after `requestTimeoutMs`. */
  static fromKubeconfig(
    cell: string,
    kubeconfig: string,
    { requestTimeoutMs = CELL_REQUEST_TIMEOUT_MS }: { requestTimeoutMs?: number } = {},
  ): CellClient {
    const config = new DeadlineKubeConfig(requestTimeoutMs);
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

  /** The application namespace's state. */
  async namespace(application: string): Promise<NamespaceState> {
    try {
      const ns = await this.core.readNamespace({ name: application });
      return ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating' ? 'terminating' : 'active';
    } catch (error) {
      if (statusCode(error) === 404) return 'absent';
      throw error;
    }
  }

  /** Names of the namespaces LeEngine created (one per application placed here). */
  async managedNamespaces(): Promise<string[]> {
    const list = await this.core.listNamespace({ labelSelector: `${LABELS.managedBy}=${MANAGED_BY}` });
    return list.items.map((ns) => ns.metadata?.name ?? '').filter(Boolean);
  }

  /** The versions' Deployments LeEngine manages in the application's namespace. */
  async deployments(application: string): Promise<DeploymentState[]> {
    const list = await this.apps.listNamespacedDeployment({
      namespace: application,
      labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`,
    });
    return list.items.map(deploymentState);
  }

  /**
   * Marks pods to go first when their Deployment scales down (lowest deletion cost
   * first), so LeEngine decides which instances stop and takes them out of the load
   * balancer before.
   */
  async setDeletionCost(application: string, pods: string[], cost: number): Promise<void> {
    await Promise.all(
      pods.map((name) =>
        this.objects.patch(
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: {
              name,
              namespace: application,
              annotations: { [ANNOTATIONS.deletionCost]: String(cost) },
            },
          },
          undefined,
          undefined,
          FIELD_MANAGER,
          undefined,
          PatchStrategy.MergePatch,
        ),
      ),
    );
  }

  /** Nodes, their allocatable resources, and what pods request on them. */
  capacity(): Promise<CellCapacity> {
    return readCapacity(this.core);
  }

  /** Deployments LeEngine manages, in every namespace, for a ResourceWatch. */
  deploymentSource(): WatchSource<V1Deployment> {
    return deploymentSource(this.config, this.apps, `${LABELS.managedBy}=${MANAGED_BY}`);
  }

  /** Pods LeEngine manages (those of its Deployments), in every namespace, for a ResourceWatch. */
  podSource(): WatchSource<V1Pod> {
    return podSource(this.config, this.core, `${LABELS.managedBy}=${MANAGED_BY}`);
  }

  /** Events of every namespace, for a ResourceWatch. */
  eventSource(): WatchSource<CoreV1Event> {
    return eventSource(this.config, this.core);
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
      return events.items.map((e) => toCellEvent(this.cell, e));
    } catch (error) {
      if (statusCode(error) === 404) return [];
      throw error;
    }
  }

  /** Runs a command in an application's container (see podExec). */
  exec(
    application: string,
    pod: string,
    command: string[],
    options: { timeoutMs: number; maxBytes: number },
  ): Promise<PodExecResult> {
    return podExec(this.config, { namespace: application, pod, container: 'app' }, command, options);
  }

  /** The last lines of a container's log. */
  async logs(application: string, pod: string, tailLines = 200): Promise<string> {
    return this.core.readNamespacedPodLog({ namespace: application, name: pod, container: 'app', tailLines });
  }

  /**
   * A container's log as a stream, from its last `tailLines` lines on, following new
   * lines until the container ends; destroy the stream to stop. Rejects with the
   * apiserver's status code (404: no such pod) when it refuses.
   */
  async followLogs(application: string, pod: string, tailLines = 200): Promise<IncomingMessage> {
    const query = new URLSearchParams({ container: 'app', follow: 'true', tailLines: String(tailLines) });
    const url = new URL(
      `${this.server}/api/v1/namespaces/${encodeURIComponent(application)}/pods/${encodeURIComponent(pod)}/log?${query}`,
    );
    const options: RequestOptions = { method: 'GET', headers: {} };
    await this.config.applyToHTTPSOptions(options);
    const answerMs = this.config.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      // The deadline covers the answer's start only: a followed log may then stay quiet for hours.
      const deadline = setTimeout(() => {
        req.destroy(new Error(`${this.cell}: no answer to the log request in ${answerMs} ms`));
      }, answerMs);
      const req = httpsRequest(url, options, (response) => {
        clearTimeout(deadline);
        if (response.statusCode === 200) return resolve(response);
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('end', () => {
          let message = body;
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? body;
          } catch {
            // not a Status object
          }
          reject(Object.assign(new Error(message.trim()), { statusCode: response.statusCode }));
        });
      });
      req.on('error', (error) => {
        clearTimeout(deadline);
        reject(error);
      });
      req.end();
    });
  }
}

/** A Kubernetes event as LeEngine lists it. */
export function toCellEvent(cell: string, e: CoreV1Event): CellEvent {
  return {
    cell,
    uid: e.metadata?.uid ?? '',
    type: e.type ?? 'Normal',
    reason: e.reason ?? '',
    message: e.message ?? '',
    object: `${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''}`,
    count: e.count ?? e.series?.count ?? 1,
    lastSeen: toIso(
      e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp,
    ),
  };
}

/** A listed Deployment's state. */
export function deploymentState(d: V1Deployment): DeploymentState {
  return {
    version: d.metadata?.name ?? '',
    specHash: d.metadata?.annotations?.[ANNOTATIONS.specHash],
    current: d.status?.replicas ?? 0,
    exists: true,
    desired: d.spec?.replicas ?? 0,
    ready: d.status?.readyReplicas ?? 0,
    updated: d.status?.updatedReplicas ?? 0,
    observed: (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0),
  };
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
