import type { RegistryHandle } from '@leengine/testbed';
import type { RegistryMaintenance } from '../registry/registryMaintenance.ts';

/**
 * Garbage collection for a registry whose process this region runs: testbed's handle
 * restarts it read-only or read-write on the same port and runs the real
 * `docker-registry garbage-collect` on its config and storage, here on this machine.
 */
export function localRegistryMaintenance(registry: RegistryHandle): RegistryMaintenance {
  return {
    setReadOnly: (readOnly) => registry.setReadOnly(readOnly),
    garbageCollect: async (options) => {
      const garbage = await registry.garbageCollect(options);
      return {
        markedBlobs: garbage.markedBlobs,
        blobs: garbage.blobs,
        bytes: garbage.bytes,
        manifests: garbage.manifests,
        blobBytesBefore: garbage.blobBytesBefore,
        blobBytesAfter: garbage.blobBytesAfter,
      };
    },
  };
}
