import { z } from 'zod';
import {
  bounded,
  CanaryTokenSchema,
  CookieNameSchema,
  HeaderNameSchema,
  HostNameSchema,
  Ipv4CidrSchema,
  Ipv4Schema,
  LabelSchema,
  LocationPathSchema,
  RequestHeaderSchema,
  ResponseHeaderSchema,
} from './slbFields.ts';

const proxyFields = {
  connectTimeoutSeconds: bounded(1, 75),
  readTimeoutSeconds: bounded(1, 3600),
  sendTimeoutSeconds: bounded(1, 3600),
  /**
   * At least 1: nginx reads `client_max_body_size 0` as "no limit", which only an admin
   * may grant (`special.clientMaxBodySizeMb`).
   */
  clientMaxBodySizeMb: bounded(1, 100),
  websocket: z.boolean(),
  buffering: z.boolean(),
};

/** Proxy settings a domain's members may change; every number is bounded. */
export const ProxySettingsSchema = z
  .object({
    connectTimeoutSeconds: proxyFields.connectTimeoutSeconds.default(5),
    readTimeoutSeconds: proxyFields.readTimeoutSeconds.default(60),
    sendTimeoutSeconds: proxyFields.sendTimeoutSeconds.default(60),
    clientMaxBodySizeMb: proxyFields.clientMaxBodySizeMb.default(1),
    websocket: proxyFields.websocket.default(false),
    buffering: proxyFields.buffering.default(true),
  })
  .strict();
export type ProxySettings = z.output<typeof ProxySettingsSchema>;

/** Per-location overrides: only what is given replaces the domain's setting. */
export const ProxyOverridesSchema = z.object(proxyFields).partial().strict();

export const LocationSchema = z
  .object({
    path: LocationPathSchema,
    /** `prefix` (nginx `location ^~ /p`) or `exact` (`location = /p`). */
    match: z.enum(['prefix', 'exact']).default('prefix'),
    /** Per-location overrides of the domain's proxy settings. */
    proxy: ProxyOverridesSchema.optional(),
  })
  .strict();
export type Location = z.output<typeof LocationSchema>;

export const HeadersSchema = z
  .object({
    /** Sent to the backend (`proxy_set_header`). */
    request: z.array(RequestHeaderSchema).max(20).default([]),
    /** Added to responses (`add_header ... always`). */
    response: z.array(ResponseHeaderSchema).max(20).default([]),
  })
  .strict();

export const TlsSchema = z
  .object({
    /** A certificate installed on the group's hosts by ops, by name (`<name>.crt`/`.key`). */
    certificate: LabelSchema,
    /** Answer plain HTTP with a redirect to HTTPS. */
    redirectHttp: z.boolean().default(true),
  })
  .strict();

/**
 * Canary (beyond the seed): send part of the traffic to one version. A request carrying
 * the header goes to it, else one carrying the cookie, else `weight` percent of the rest.
 * Applied by the Lua balancer: changing it never reloads nginx.
 */
export const CanarySchema = z
  .object({
    version: LabelSchema,
    weight: bounded(0, 100).default(0),
    header: z.object({ name: HeaderNameSchema, value: CanaryTokenSchema }).strict().optional(),
    cookie: z.object({ name: CookieNameSchema, value: CanaryTokenSchema }).strict().optional(),
  })
  .strict();
export type Canary = z.output<typeof CanarySchema>;

/**
 * "Special" settings: only platform admins may change them (the seed kept all nginx
 * changes with the admins; we keep only these). They are still typed and bounded, but
 * they can conflict with each other in ways only `nginx -t` sees (buffer sizes).
 */
export const SpecialSettingsSchema = z
  .object({
    /** 0 lifts the limit (nginx's `client_max_body_size 0`): only admins may. */
    clientMaxBodySizeMb: bounded(0, 10_240).optional(),
    proxyBufferSizeKb: bounded(1, 1024).optional(),
    proxyBuffers: z
      .object({ count: bounded(2, 256), sizeKb: bounded(1, 1024) })
      .strict()
      .optional(),
    proxyBusyBuffersSizeKb: bounded(1, 4096).optional(),
    keepaliveTimeoutSeconds: bounded(0, 3600).optional(),
    largeClientHeaderBuffers: z
      .object({ count: bounded(1, 64), sizeKb: bounded(1, 256) })
      .strict()
      .optional(),
    /** When set, only these client networks may reach the domain (others get 403). */
    allowCidrs: z.array(Ipv4CidrSchema).max(100).optional(),
    /** Peer retries on connection errors (`proxy_next_upstream_tries`). */
    nextUpstreamTries: bounded(1, 10).optional(),
  })
  .strict();
export type SpecialSettings = z.output<typeof SpecialSettingsSchema>;

/** What users (the application's Masters and Owners) may set on a domain. */
export const DomainSettingsSchema = z
  .object({
    locations: z
      .array(LocationSchema)
      .min(1)
      .max(50)
      .default([{ path: '/', match: 'prefix' }])
      .refine((ls) => new Set(ls.map((l) => `${l.match} ${l.path}`)).size === ls.length, {
        message: 'must not repeat a location',
      }),
    proxy: ProxySettingsSchema.default(ProxySettingsSchema.parse({})),
    headers: HeadersSchema.default({ request: [], response: [] }),
    tls: TlsSchema.optional(),
    canary: CanarySchema.optional(),
  })
  .strict();
export type DomainSettings = z.output<typeof DomainSettingsSchema>;
export type DomainSettingsInput = z.input<typeof DomainSettingsSchema>;

/** One domain's whole configuration, as stored at `/slb/{group}/domains/{domain}/config`. */
export const DomainConfigSchema = DomainSettingsSchema.extend({
  domain: HostNameSchema,
  group: LabelSchema,
  application: LabelSchema,
  special: SpecialSettingsSchema.default({}),
}).strict();
export type DomainConfig = z.output<typeof DomainConfigSchema>;
export type DomainConfigInput = z.input<typeof DomainConfigSchema>;

/** One backend address, as stored at `/slb/{group}/domains/{domain}/upstreams`. */
export const UpstreamSchema = z
  .object({
    ip: Ipv4Schema,
    port: bounded(1, 65_535),
    weight: bounded(1, 100).default(1),
    cell: LabelSchema,
    version: z.union([LabelSchema, z.literal('')]),
    /** The pod behind the address, for people reading the key. */
    pod: z
      .string()
      .max(253)
      .regex(/^[a-z0-9.-]*$/)
      .optional(),
  })
  .strict();
export type Upstream = z.output<typeof UpstreamSchema>;
export const UpstreamsSchema = z.array(UpstreamSchema).max(10_000);

/** An SLB group: one nginx cluster (e.g. public, intranet). */
export const SlbGroupSchema = z
  .object({
    name: LabelSchema,
    description: z.string().max(500).default(''),
    /** Host names of the group's nginx hosts (each runs one slb-agent). */
    hosts: z.array(HostNameSchema.or(LabelSchema)).max(100).default([]),
    vip: Ipv4Schema.optional(),
    cname: HostNameSchema.optional(),
  })
  .strict();
export type SlbGroup = z.output<typeof SlbGroupSchema>;

/** What an slb-agent reports under its lease-bound key `/slb/{group}/agents/{host}`. */
export const AgentStatusSchema = z.object({
  host: z.string(),
  group: z.string(),
  /** The etcd revision whose state of the group is live in nginx. */
  revision: z.number().int(),
  /** The live config generation. */
  generation: z.string(),
  /** Wall-clock time of the last apply, for people (never used to decide anything). */
  appliedAt: z.string(),
  /** The last apply's error, if it failed as a whole (nginx unreachable, reload failed). */
  error: z.string().nullable(),
  /** Domains whose last config change nginx refused; their last good config stays live. */
  domainErrors: z.record(z.string(), z.string()),
  reloads: z.number().int(),
});
export type AgentStatus = z.output<typeof AgentStatusSchema>;

/** POST /applications/{name}/domains: bind a domain on an SLB group (`special`: admins only). */
export const BindDomainSchema = DomainSettingsSchema.extend({
  domain: HostNameSchema,
  group: LabelSchema,
  special: SpecialSettingsSchema.optional(),
});
export type BindDomainInput = z.input<typeof BindDomainSchema>;

/** PUT /applications/{name}/domains/{domain}: replace its settings (`special`: admins only). */
export const UpdateDomainSchema = DomainSettingsSchema.extend({ special: SpecialSettingsSchema.optional() });
export type UpdateDomainInput = z.input<typeof UpdateDomainSchema>;

/** GET /applications/{name}/domains/{domain}: the config, its backends, and which agents serve it. */
export const DomainViewSchema = DomainConfigSchema.extend({
  upstreams: UpstreamsSchema,
  agents: z.array(z.object({ host: z.string(), applied: z.boolean(), error: z.string().nullable() })),
});
export type DomainView = z.output<typeof DomainViewSchema>;
