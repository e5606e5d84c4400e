import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { UnavailableError } from '@leengine/common';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Parses a 256-bit key written as base64 (44 chars) or hex (64 chars); undefined when it is neither. */
export function parseSecretKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  return key.length === 32 && (trimmed.length === 64 || key.toString('base64') === trimmed) ? key : undefined;
}

/**
 * Seals secrets at rest (cell kubeconfigs, secret env values) with AES-256-GCM. Each
 * value is bound to a context (`cell:local-1`), so a sealed value copied to another row
 * does not open there.
 */
export class SecretBox {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** From the configured key (LEENGINE_SECRET_KEY). */
  static fromKey(text: string): SecretBox {
    const key = parseSecretKey(text);
    if (!key) throw new Error('the secret key must be 32 bytes, base64 or hex');
    return new SecretBox(key);
  }

  /** A new random key, base64. */
  static generateKey(): string {
    return randomBytes(32).toString('base64');
  }

  /** `v1.<base64url(iv | tag | ciphertext)>`. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** Opens a sealed value; throws if it was altered, sealed for another context, or with another key. */
  open(sealed: string, context: string): string {
    const [version, data] = sealed.split('.');
    if (version !== VERSION || !data) throw new Error('not a sealed value');
    const raw = Buffer.from(data, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  }
}

/** The box, or a clear error when core runs without a key. */
export function requireBox(box: SecretBox | undefined): SecretBox {
  if (!box) {
    throw new UnavailableError(
      'LEENGINE_SECRET_KEY is not configured: core cannot store cell kubeconfigs or secret env values',
    );
  }
  return box;
}
