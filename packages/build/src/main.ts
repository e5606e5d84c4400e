import { hostname } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { z } from 'zod';
import { BuildAgent } from './buildAgent.ts';
import { CoreReporter } from './coreReporter.ts';
import { AgentIdSchema } from './task.ts';
import { BUILD_AGENT_VERSION } from './version.ts';

const ConfigSchema = z.object({
  ETCD_ENDPOINTS: z.string().transform((s) =>
    s
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
  ),
  LEENGINE_CORE_URL: z.url({ protocol: /^https?$/ }),
  LEENGINE_BUILD_AGENT_TOKEN: z.string().min(16, 'at least 16 characters'),
  BUILD_AGENT_ID: AgentIdSchema.default(
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-'),
  ),
  BUILD_AGENT_CAPACITY: z.coerce.number().int().min(1).max(64).default(2),
  /** `key=value,key=value` */
  BUILD_AGENT_LABELS: z
    .string()
    .default('')
    .transform((s) =>
      Object.fromEntries(
        s
          .split(',')
          .filter(Boolean)
          .map((kv) => kv.split('=', 2) as [string, string]),
      ),
    ),
  BUILD_AGENT_WORK_DIR: z.string().min(1).default('/var/lib/leengine/build'),
  BUILD_AGENT_LEASE_TTL: z.coerce.number().int().min(2).max(300).default(10),
  /** buildah storage of its own (vfs) under this dir; unset: buildah's defaults. */
  BUILD_AGENT_BUILDAH_ROOT: z.string().optional(),
  /** The buildah executable (default: `buildah` on PATH). */
  BUILD_AGENT_BUILDAH: z.string().min(1).optional(),
  /** Seconds a build's result key lives in etcd after the build ends (core settles from it). */
  BUILD_AGENT_RESULT_TTL: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(3600),
  /** Seconds the end report is retried until core acknowledges it. */
  BUILD_AGENT_END_REPORT_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .default(900),
  /** `1`: clone file:// URLs too (tests and the local region only). */
  BUILD_AGENT_ALLOW_FILE_URLS: z.enum(['0', '1']).default('0'),
  LOG_LEVEL: z.string().default('info'),
});

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(
    `usage: build-agent (no arguments; configured by environment, see docs/builds.md)\n  ${Object.keys(ConfigSchema.shape).join('\n  ')}\n`,
  );
  process.exit(0);
}
const parsed = ConfigSchema.safeParse(process.env);
if (!parsed.success) {
  for (const issue of parsed.error.issues)
    process.stderr.write(`build-agent: ${issue.path.join('.')}: ${issue.message}\n`);
  process.exit(2);
}
const config = parsed.data;
const logger = pino({
  level: config.LOG_LEVEL,
  base: { service: 'build-agent', agentId: config.BUILD_AGENT_ID },
});
const etcd = new Etcd3({ hosts: config.ETCD_ENDPOINTS });
const buildahRoot = config.BUILD_AGENT_BUILDAH_ROOT;
const agent = new BuildAgent(
  {
    agentId: config.BUILD_AGENT_ID,
    capacity: config.BUILD_AGENT_CAPACITY,
    labels: config.BUILD_AGENT_LABELS,
    version: BUILD_AGENT_VERSION,
    leaseTtlSeconds: config.BUILD_AGENT_LEASE_TTL,
    workRoot: config.BUILD_AGENT_WORK_DIR,
    allowLocalRepositories: config.BUILD_AGENT_ALLOW_FILE_URLS === '1',
    resultTtlSeconds: config.BUILD_AGENT_RESULT_TTL,
    endReportMaxMs: config.BUILD_AGENT_END_REPORT_MAX * 1000,
    ...(config.BUILD_AGENT_BUILDAH ? { buildahBinary: config.BUILD_AGENT_BUILDAH } : {}),
    buildahArgs: buildahRoot
      ? [
          '--root',
          join(buildahRoot, 'root'),
          '--runroot',
          join(buildahRoot, 'run'),
          '--storage-driver',
          'vfs',
        ]
      : [],
  },
  {
    etcd,
    logger,
    reporter: new CoreReporter({
      coreUrl: config.LEENGINE_CORE_URL,
      agentId: config.BUILD_AGENT_ID,
      agentToken: config.LEENGINE_BUILD_AGENT_TOKEN,
    }),
  },
);
await agent.start();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'stopping');
    void agent.stop().finally(() => {
      etcd.close();
      process.exit(0);
    });
  });
}
