import { z } from 'zod';

const Timestamp = z.iso.datetime();

/** Asks for a pool of fixed container addresses in every cell of an application. */
export const FixedAddressRequestSchema = z
  .strictObject({
    /**
     * Addresses per cell. The application's pods take addresses only from its pool, so
     * size it for the instances of a cell plus those of a gray upgrade running beside them.
     */
    size: z.number().int().min(1).max(1024),
  })
  .meta({ id: 'FixedAddressRequest' });
export type FixedAddressRequest = z.infer<typeof FixedAddressRequestSchema>;

export const FixedAddressPoolSchema = z
  .object({
    cell: z.string(),
    /** One aligned range (a CIDR), so an access rule can name the application's addresses at once. */
    cidr: z.string(),
    /** Addresses asked for. */
    size: z.number().int(),
    /** Addresses pods may take: the range's, minus network, broadcast, gateway (at least `size`). */
    capacity: z.number().int(),
    /** Addresses held now, and by which pod. */
    inUse: z.array(z.object({ ip: z.string(), pod: z.string() })),
    createdAt: Timestamp,
  })
  .meta({ id: 'FixedAddressPool' });
export type FixedAddressPool = z.infer<typeof FixedAddressPoolSchema>;

export const FixedAddressesSchema = z
  .object({
    application: z.string(),
    /** Addresses asked for in each cell; null when the application has no fixed addresses. */
    size: z.number().int().nullable(),
    /** One pool per cell of the application that has one; empty when it has none. */
    pools: z.array(FixedAddressPoolSchema),
  })
  .meta({ id: 'FixedAddresses' });
export type FixedAddresses = z.infer<typeof FixedAddressesSchema>;
