import { type FieldError, InputError } from '@leengine/common';
import { z } from 'zod';

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
  /** The region registry's URL. */
  REGISTRY_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Shared secret the build agents present when they report builds (16+ characters). */
  LEENGINE_BUILD_AGENT_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** How long a console login session lasts, in hours. */
  LEENGINE_SESSION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(12),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The built web console served at `/` (default: packages/console/dist of this checkout). */
  LEENGINE_CONSOLE_DIR: z
    .string()
    .min(1)
    .default(new URL('../../console/dist', import.meta.url).pathname),
});

export type CoreConfig = z.infer<typeof CoreConfigSchema>;

const SECRET_KEYS = new Set<keyof CoreConfig>(['LEENGINE_BUILD_AGENT_TOKEN', 'DATABASE_URL']);

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
