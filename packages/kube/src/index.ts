export type { CoreV1Event, V1Deployment, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
export { type CellCapacity, type NodeCapacity, podRequests, type Resources } from './capacity.ts';
export {
  CellClient,
  type CellEvent,
  type Container,
  type DeploymentState,
  deploymentState,
  type NamespaceState,
  statusCode,
  toCellEvent,
  type VersionStatus,
} from './cellClient.ts';
export { ANNOTATIONS, FIELD_MANAGER, LABELS, MANAGED_BY } from './labels.ts';
export {
  deploymentManifest,
  type EnvVar,
  type HealthCheck,
  namespaceManifest,
  pullSecretManifest,
  secretManifest,
  serviceManifest,
  specHash,
  type VersionSpec,
} from './manifests.ts';
export type { PodExecResult } from './podExec.ts';
export { cpuMillicores, memoryMib, parseQuantity } from './quantity.ts';
export {
  type Clock,
  done,
  type ReconcileContext,
  type ReconcileResult,
  Reconciler,
  type ReconcilerLogger,
  type ReconcilerMetrics,
  type ReconcilerOptions,
  requeueAfter,
  retry,
  systemClock,
} from './reconciler.ts';
export {
  ResourceWatch,
  type ResourceWatchMetrics,
  type ResourceWatchOptions,
  type WatchEventType,
  WatchGoneError,
  type WatchSource,
} from './resourceWatch.ts';
