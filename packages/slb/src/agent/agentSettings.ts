import { LabelSchema } from '@leengine/common';
import { z } from 'zod';

/** `address:port` (IPv4 or `*`/`[::]`) for nginx `listen`. */
const ListenSchema = z
  .string()
  .regex(
    /^(?:(?:\d{1,3}\.){3}\d{1,3}|\*|\[::1?\]):\d{1,5}$/,
    'must be address:port, e.g. 0.0.0.0:80 or 127.0.0.1:8080',
  );

const AbsolutePathSchema = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path of letters, digits and "._/-"');

/** An SLB host's settings: validated once at start (they come from ops, not users). */
export const AgentSettingsSchema = z
  .object({
    group: LabelSchema,
    /** This host's name in the group (the agent key). */
    host: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, 'must be a host name'),
    /** nginx's prefix dir, owned by the agent. */
    root: AbsolutePathSchema,
    nginxBinary: z.string().default('nginx'),
    modulesDir: AbsolutePathSchema.default('/usr/lib/nginx/modules'),
    certDir: AbsolutePathSchema.default('/etc/leengine/slb/certs'),
    http: z.array(ListenSchema).min(1).default(['0.0.0.0:80']),
    https: z.array(ListenSchema).default(['0.0.0.0:443']),
    metrics: ListenSchema.default('127.0.0.1:9145'),
    workerProcesses: z.number().int().min(1).max(64).default(2),
    workerConnections: z.number().int().min(64).max(65_536).default(4096),
    /** Workers run as nobody when the agent (and so nginx's master) runs as root. */
    dropPrivileges: z.boolean().default(process.getuid?.() === 0),
    upstreamsDictMb: z.number().int().min(1).max(1024).default(64),
    metricsDictMb: z.number().int().min(1).max(1024).default(32),
    keepalive: z.number().int().min(0).max(10_000).default(256),
    /** Reloads closer together than this are coalesced into one. */
    reloadMinIntervalMs: z.number().int().min(0).max(60_000).default(1000),
    /** The agent key's lease: it vanishes this long after the agent dies. */
    leaseTtlSeconds: z.number().int().min(2).max(300).default(10),
    /** How often to check that nginx still holds what was pushed (a restarted nginx does not). */
    verifyIntervalMs: z.number().int().min(100).max(600_000).default(5000),
  })
  .strict();
export type AgentSettings = z.output<typeof AgentSettingsSchema>;
export type AgentSettingsInput = z.input<typeof AgentSettingsSchema>;
