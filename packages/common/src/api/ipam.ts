import { z } from 'zod';

/**
 * GET /regions/{region}/cells/{cell}/ipam (admins): how a cell's container addresses are
 * used (from its IPAM in etcd) and the addresses held for pods that are gone.
 */
export const CellIpamSchema = z
  .object({
    cell: z.string(),
    /** etcd revision of the allocations read. */
    revision: z.string(),
    segments: z.array(
      z.object({
        cidr: z.string(),
        gateway: z.string(),
        vlan: z.number().int().optional(),
        state: z.enum(['active', 'draining']),
        usable: z.number().int(),
        blocks: z.number().int(),
        blocksClaimed: z.number().int(),
        allocated: z.number().int(),
      }),
    ),
    nodes: z.array(
      z.object({
        node: z.string(),
        blocks: z.number().int(),
        usable: z.number().int(),
        allocated: z.number().int(),
        pods: z.number().int(),
      }),
    ),
    blocks: z.array(
      z.object({
        cidr: z.string(),
        segment: z.string(),
        /** `node/<name>` or `pool/<namespace>`. */
        owner: z.string(),
        state: z.enum(['active', 'draining']),
        usable: z.number().int(),
        allocated: z.number().int(),
      }),
    ),
    /** The leak check (allocations against the cell's pods); null when the cell did not answer. */
    leakCheck: z
      .object({
        checkedAt: z.string(),
        allocations: z.number().int(),
        pods: z.number().int(),
        /** Allocations younger than the grace period: not judged yet. */
        young: z.number().int(),
        leaks: z.array(
          z.object({
            ip: z.string(),
            reason: z.enum(['pod-gone', 'pod-replaced', 'stale-sandbox']),
            namespace: z.string(),
            pod: z.string(),
            node: z.string(),
            since: z.string(),
          }),
        ),
      })
      .nullable(),
    leakCheckError: z.string().nullable(),
  })
  .meta({ id: 'CellIpam' });
export type CellIpam = z.infer<typeof CellIpamSchema>;
