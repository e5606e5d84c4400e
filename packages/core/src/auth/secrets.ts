import { createHash, randomBytes } from 'node:crypto';

/**
 * A new random secret with a recognisable prefix (`lee_pat_...` for tokens, so secret
 * scanners can find leaked ones). 256 bits: a plain sha256 of it is safe to store.
 */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** What is stored for a secret: its sha256, hex. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export const TOKEN_PREFIX = 'lee_pat_';
export const SESSION_PREFIX = 'lee_s_';
