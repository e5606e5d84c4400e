export { CellSource, type CellSourceOptions } from './cellSource.ts';
export { Discovery, type DiscoveryDeps } from './discovery.ts';
export { addDrain, DRAINS_PREFIX, DrainSchema, drainAndConfirm, drainKey, removeDrain } from './drains.ts';
export { cellUpstreams, type Drain, type PodView, type SliceView, sortUpstreams } from './endpoints.ts';
export { Reflector, type ReflectorOptions } from './reflector.ts';
