export { findBinary } from './binaries.ts';
export { Buildah, type PushOptions } from './buildah.ts';
export { cacheDir } from './cacheDir.ts';
export { type ComponentHandle, retryOnPortClash } from './component.ts';
export { ComponentError } from './componentError.ts';
export { type EtcdHandle, type EtcdOptions, startEtcd } from './etcd.ts';
export { type ExitStatus, ManagedProcess, type ProcessOptions } from './managedProcess.ts';
export { type NginxHandle, type NginxOptions, startNginx } from './nginx.ts';
export { useTestbed } from './nodeTest.ts';
export { freePort, freePorts } from './ports.ts';
export { type PostgresHandle, type PostgresOptions, startPostgres } from './postgres.ts';
export {
  type RegistryHandle,
  type RegistryNotificationEndpoint,
  type RegistryOptions,
  type RegistryTokenAuth,
  startRegistry,
} from './registry.ts';
export { Testbed } from './testbed.ts';
export { httpOk, waitUntilReady } from './waitUntil.ts';
export { makeWorkDir, type WorkDir } from './workDir.ts';
