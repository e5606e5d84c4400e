export type { Allocated, AllocateRequest } from './allocator.ts';
export {
  type CheckOptions,
  type CheckReport,
  checkLeaks,
  DEFAULT_GRACE_MS,
  type Leak,
  type LeakReason,
  verdict,
} from './cnictl/leakCheck.ts';
export type { PodInfo, PodLister } from './cnictl/podLister.ts';
export { ContentionError, ExhaustedError } from './errors.ts';
export { Ipam, type IpamOptions } from './ipam.ts';
export type { Allocation, AttachmentRef, Block, PodRef, Pool, Segment, Versioned } from './model.ts';
export type { PoolSpec } from './pools.ts';
export type { SegmentSpec } from './segments.ts';
export type { BlockUsage, NodeUsage, SegmentUsage, Usage } from './usage.ts';
