export { CellClient, type CellEvent, type Container, statusCode, type VersionStatus } from './cellClient.ts';
export { FIELD_MANAGER, LABELS, MANAGED_BY } from './labels.ts';
export {
  deploymentManifest,
  type EnvVar,
  type HealthCheck,
  namespaceManifest,
  secretManifest,
  serviceManifest,
  type VersionSpec,
} from './manifests.ts';
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
