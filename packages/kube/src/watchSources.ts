import {
  type AppsV1Api,
  type CoreV1Api,
  type CoreV1Event,
  type KubeConfig,
  type V1Deployment,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import type { WatchSource } from './resourceWatch.ts';

/**
 * The apiserver ends each watch after this many seconds; the client's own inactivity
 * timeout is 30 s, so a quiet stream is closed cleanly by the server first and resumed.
 */
const WATCH_SECONDS = 25;

/** The watch half of a source: `path` is the collection's URL path (all namespaces). */
function watchPath(
  config: KubeConfig,
  path: string,
  query: Record<string, string>,
): WatchSource<unknown>['watch'] {
  return (resourceVersion, onEvent, signal) =>
    new Promise<void>((resolve, reject) => {
      let controller: AbortController | undefined;
      const onAbort = () => controller?.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      new Watch(config)
        .watch(
          path,
          { ...query, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: WATCH_SECONDS },
          (type, object) => onEvent(type, object),
          (error) => {
            signal.removeEventListener('abort', onAbort);
            if (error && !signal.aborted) reject(error);
            else resolve();
          },
        )
        .then((c) => {
          controller = c;
          if (signal.aborted) c.abort();
        }, reject);
    });
}

/** Deployments matching `labelSelector` in every namespace. */
export function deploymentSource(
  config: KubeConfig,
  apps: AppsV1Api,
  labelSelector: string,
): WatchSource<V1Deployment> {
  return {
    list: async () => {
      const list = await apps.listDeploymentForAllNamespaces({ labelSelector });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    watch: watchPath(config, '/apis/apps/v1/deployments', { labelSelector }),
  };
}

/** Pods matching `labelSelector` in every namespace. */
export function podSource(config: KubeConfig, core: CoreV1Api, labelSelector: string): WatchSource<V1Pod> {
  return {
    list: async () => {
      const list = await core.listPodForAllNamespaces({ labelSelector });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    watch: watchPath(config, '/api/v1/pods', { labelSelector }),
  };
}

/** Events of every namespace. */
export function eventSource(config: KubeConfig, core: CoreV1Api): WatchSource<CoreV1Event> {
  return {
    list: async () => {
      const list = await core.listEventForAllNamespaces();
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    watch: watchPath(config, '/api/v1/events', {}),
  };
}
