import { z } from 'zod';

/** What a rotation of an application's pull secret did (never the secret itself). */
export const PullSecretRotationSchema = z
  .object({
    application: z.string(),
    /** The registry login of the credential: unchanged by a rotation (`robot$app$<application>`). */
    username: z.string(),
    rotatedAt: z.iso.datetime(),
    /** Cells whose `leengine-pull` Secret the cell reconciler rewrites with the new secret. */
    cells: z.array(z.string()),
  })
  .meta({ id: 'PullSecretRotation' });
export type PullSecretRotation = z.infer<typeof PullSecretRotationSchema>;
