export { CellSource, type CellSourceOptions } from './cellSource.ts';
export { CELL_NAME, CellsDirWatch, readCellsDir } from './cellsDir.ts';
export { Discovery, type DiscoveryCell, type DiscoveryDeps } from './discovery.ts';
export {
  addDrain,
  DRAINS_PREFIX,
  DrainSchema,
  drainAndConfirm,
  drainKey,
  removeDrain,
  upstreamState,
} from './drains.ts';
export {
  addressKey,
  cellUpstreams,
  type Drain,
  isDrained,
  type PodView,
  type SliceView,
  sortUpstreams,
} from './endpoints.ts';
export { Reflector, type ReflectorOptions } from './reflector.ts';
export { type GateDrainTarget, type GateEndpoint, SlbTrafficGate } from './trafficGate.ts';
