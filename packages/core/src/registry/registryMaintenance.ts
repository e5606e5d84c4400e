/** What one garbage-collect run found (and, not dry, deleted). */
export interface GarbageReport {
  /** Blobs a kept manifest references. */
  markedBlobs: number;
  /** Blobs no kept manifest references, with their bytes before the run. */
  blobs: { digest: string; bytes: number }[];
  /** Those blobs' bytes together. */
  bytes: number;
  /** Manifests no tag points at (with deleteUntagged). */
  manifests: { repository: string; digest: string }[];
  /** Bytes of all blobs in the registry's storage before and after the run. */
  blobBytesBefore: number;
  blobBytesAfter: number;
}

/**
 * The region registry's host as core drives it for maintenance: whatever can restart
 * the registry and run its `garbage-collect` against its config and storage (the local
 * region's registry process; on a production registry host, an agent there).
 */
export interface RegistryMaintenance {
  /**
   * Restarts the registry read-only (pulls answer, pushes are refused) or read-write
   * again, on the same address; resolves once it answers.
   */
  setReadOnly(readOnly: boolean): Promise<void>;
  /** Runs `garbage-collect`; `dryRun` deletes nothing. Call it only while read-only unless dry. */
  garbageCollect(options: { dryRun: boolean; deleteUntagged: boolean }): Promise<GarbageReport>;
}
