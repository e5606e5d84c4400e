import { z } from 'zod';
import { DNS_LABEL, hasControlCharacters } from './names.ts';

/**
 * The SLB's field rules (shared by slb-core, the agents and the console, so defined here once):
 * the values a user or an admin may type that end up in nginx config. Each one is
 * checked against a strict pattern here; the renderer quotes them as well, so a value
 * that slipped through would still be one nginx string, never a directive.
 */

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';

/** A lowercase DNS host name with at least two labels, ASCII only (IDNs in punycode). */
export const HOST_NAME = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$`);

export const HostNameSchema = z
  .string()
  .max(253)
  .regex(HOST_NAME, 'must be a lowercase DNS name such as "shop.example.com" (IDNs in punycode)');

/** A DNS label: SLB group, cell, version and certificate names. */
export const LabelSchema = z
  .string()
  .max(63)
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and "-", starting with a letter');

/**
 * A location path: "/" then URL path characters without anything nginx or a regex would
 * read specially (no spaces, quotes, "$", ";", braces, "#", "%", "?", "*", "..").
 */
export const LocationPathSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^\/[A-Za-z0-9._~/-]*$/, 'must start with "/" and hold only letters, digits and "._~/-"')
  .refine((p) => !p.split('/').includes('..') && !p.includes('//'), {
    message: 'must not contain ".." segments or "//"',
  });

/** An HTTP header name (a token, letters, digits and "-"). */
export const HeaderNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, 'must be letters, digits and "-"');

/**
 * Request headers the platform sets itself or that change how the request is framed;
 * letting a user override them would break routing, websockets or the backend's view
 * of the client.
 */
const RESERVED_REQUEST_HEADERS = new Set([
  'host',
  'connection',
  'upgrade',
  'content-length',
  'transfer-encoding',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
]);

const RESERVED_RESPONSE_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'trailer',
  'upgrade',
]);

/**
 * A header value: printable ASCII (RFC 9110 visible characters and spaces). `"` and `\`
 * are refused; `;`, braces, `#` and `$` are allowed and rendered inert by quoting (and
 * `$` through a variable that holds a literal dollar).
 */
export const HeaderValueSchema = z
  .string()
  .max(1024)
  .refine((v) => !hasControlCharacters(v), { message: 'must not contain control characters' })
  .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII')
  .refine((v) => !v.includes('"') && !v.includes('\\'), { message: 'must not contain `"` or `\\`' })
  .refine((v) => v === v.trim(), { message: 'must not start or end with spaces' });

export const RequestHeaderSchema = z
  .object({
    name: HeaderNameSchema.refine((n) => !RESERVED_REQUEST_HEADERS.has(n.toLowerCase()), {
      message: 'is set by the platform and cannot be overridden',
    }),
    value: HeaderValueSchema,
  })
  .strict();

export const ResponseHeaderSchema = z
  .object({
    name: HeaderNameSchema.refine((n) => !RESERVED_RESPONSE_HEADERS.has(n.toLowerCase()), {
      message: 'frames the response and cannot be set',
    }),
    value: HeaderValueSchema,
  })
  .strict();

/** A token for canary header and cookie values: no spaces, no separators. */
export const CanaryTokenSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._~-]+$/, 'must be letters, digits and "._~-"');

export const CookieNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_]+$/, 'must be letters, digits and "_"');

/** An IPv4 address in dotted-quad form. */
export const Ipv4Schema = z
  .string()
  .regex(
    /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/,
    'must be an IPv4 address',
  );

/** An IPv4 CIDR such as 10.0.0.0/8. */
export const Ipv4CidrSchema = z
  .string()
  .max(18)
  .refine(
    (c) => {
      const [ip, bits, extra] = c.split('/');
      if (extra !== undefined || ip === undefined || bits === undefined) return false;
      return Ipv4Schema.safeParse(ip).success && /^(?:3[0-2]|[12]?\d)$/.test(bits);
    },
    { message: 'must be an IPv4 CIDR such as 10.0.0.0/8' },
  );

/** An integer between `min` and `max` inclusive. */
export function bounded(min: number, max: number) {
  return z.number().int().min(min).max(max);
}
