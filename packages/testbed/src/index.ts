export { findBinary } from './binaries.ts';
export { Buildah, type PushOptions } from './buildah.ts';
export { cacheDir } from './cacheDir.ts';
export { type CellCni, type CellHandle, type CellOptions, startCell } from './cell/cell.ts';
export { FAKE_NODE_ANNOTATION, FAKE_NODE_TAINT } from './cell/fakeNodes.ts';
export type { CellImages } from './cell/images.ts';
export { kubeBinary, kubeBinDir } from './cell/kubeBinaries.ts';
export type { RealNode } from './cell/node.ts';
export { CELL_RANGES, type PodSubnet } from './cell/podNetwork.ts';
export { type ComponentHandle, processHandle, retryOnPortClash } from './component.ts';
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
export { type RegistryGarbage, storageBytes } from './registryGarbage.ts';
export { Testbed } from './testbed.ts';
export { httpOk, waitUntilReady } from './waitUntil.ts';
export { makeWorkDir, type WorkDir } from './workDir.ts';
