import { type FieldError, InputError } from '@leengine/common';
import { z } from 'zod';
import { parseSecretKey } from './crypto/secretBox.ts';

// 0 asks the kernel for a free port (tests, a second local region).
const port = z.coerce.number().int().min(0).max(65535);

/** leengine-core's configuration, read from the environment and validated at start. */
export const CoreConfigSchema = z.object({
  /** Address the HTTP API listens on. */
  LEENGINE_HOST: z.string().min(1).default('127.0.0.1'),
  LEENGINE_PORT: port.default(7070),
  /** PostgreSQL URL; without it core uses embedded PGlite in LEENGINE_DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** Where core keeps local state (the PGlite database when DATABASE_URL is unset). */
  LEENGINE_DATA_DIR: z.string().min(1).default('.leengine/data'),
  /** Comma-separated etcd client URLs (the message bus). */
  ETCD_ENDPOINTS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ })).min(1))
    .optional(),
  /**
   * Comma-separated addresses or CIDRs of the reverse proxies in front of core (the
   * region's nginx). Only a connection from one of them may name the client with
   * X-Forwarded-For (and the scheme and host with X-Forwarded-Proto/-Host); anyone else
   * is known by the connection's own address. Unset: nobody is trusted.
   */
  LEENGINE_TRUSTED_PROXIES: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.union([z.ipv4(), z.cidrv4(), z.ipv6(), z.cidrv6()])).min(1))
    .optional(),
  /** The region registry's URL: deploys check that image tags exist there and pull from its host. */
  REGISTRY_URL: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * 32 random bytes (base64 or hex) sealing secrets at rest: cell kubeconfigs and secret
   * env values (AES-256-GCM). Without it core cannot register cells.
   */
  LEENGINE_SECRET_KEY: z
    .string()
    .refine((s) => parseSecretKey(s) !== undefined, { message: 'must be 32 bytes, base64 or hex' })
    .optional(),
  /** Shared secret the build agents present when they report builds (16+ characters). */
  LEENGINE_BUILD_AGENT_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /**
   * `1`: build projects may use local git repositories (file://). For tests and the local
   * region only: a build agent would clone from its own disk.
   */
  LEENGINE_BUILD_ALLOW_LOCAL_GIT: z
    .enum(['0', '1', 'true', 'false'])
    .default('0')
    .transform((v) => v === '1' || v === 'true'),
  /** `service` of the registry's token auth: the audience of the tokens core signs. */
  REGISTRY_TOKEN_SERVICE: z.string().min(1).max(200).default('leengine-registry'),
  /** `issuer` of the registry's token auth. */
  REGISTRY_TOKEN_ISSUER: z.string().min(1).max(200).default('leengine-core'),
  /**
   * Where the token signing key (key.pem) and its certificate (cert.pem, the registry's
   * rootcertbundle) live; made on first start. Default: `registry-token` beside LEENGINE_DATA_DIR
   * (with a `memory://` data dir: a key that lives as long as the process).
   */
  REGISTRY_TOKEN_KEY_DIR: z.string().min(1).optional(),
  /** Lifetime of registry tokens, in seconds. */
  REGISTRY_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  /** Shared secret the registry's notification endpoint sends (`Authorization: Bearer <secret>`). */
  REGISTRY_NOTIFICATION_SECRET: z.string().min(16).optional(),
  /** A push into a missing repository of a group where the pusher may create one creates it. */
  REGISTRY_CREATE_ON_PUSH: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** How long a console login session lasts, in hours. */
  LEENGINE_SESSION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(12),
  /**
   * Check every API answer against its schema (a wrong one is a 500) instead of only
   * writing the schema's fields; the test suite turns it on.
   */
  LEENGINE_VALIDATE_RESPONSES: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The built web console served at `/` (default: packages/console/dist of this checkout). */
  LEENGINE_CONSOLE_DIR: z
    .string()
    .min(1)
    .default(new URL('../../console/dist', import.meta.url).pathname),
});

export type CoreConfig = z.infer<typeof CoreConfigSchema>;

const SECRET_KEYS = new Set<keyof CoreConfig>([
  'REGISTRY_NOTIFICATION_SECRET',
  'LEENGINE_BUILD_AGENT_TOKEN',
  'DATABASE_URL',
  'LEENGINE_SECRET_KEY',
]);

/** Validates the environment; an InputError lists every bad variable by name. */
export function loadConfig(env: Record<string, string | undefined>): CoreConfig {
  // An empty variable (`DATABASE_URL=`) means unset, as in most tools.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = CoreConfigSchema.safeParse(set);
  if (parsed.success) return parsed.data;
  const fields: FieldError[] = parsed.error.issues.map((issue) => ({
    in: 'config',
    path: issue.path.join('.'),
    message: issue.message,
  }));
  throw new InputError(
    `invalid configuration: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`,
    fields,
  );
}

/** The config with secrets masked (passwords inside URLs included), for logs. */
export function redactConfig(config: CoreConfig): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key,
      SECRET_KEYS.has(key as keyof CoreConfig) && typeof value === 'string' ? maskUrl(value) : value,
    ]),
  );
}

function maskUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '***';
  }
}
