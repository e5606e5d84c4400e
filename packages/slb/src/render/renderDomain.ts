import type { DomainConfig, Location, ProxySettings } from '@leengine/common';
import { quote, quoteLiteral } from './nginxString.ts';

/** Where an SLB host listens and keeps certificates: operator settings, not user input. */
export interface ListenContext {
  /** `address:port` for plain HTTP, e.g. `0.0.0.0:80`. */
  http: readonly string[];
  /** `address:port` for HTTPS; domains with TLS listen here. */
  https: readonly string[];
  /** Directory holding `<certificate>.crt` and `<certificate>.key`. */
  certDir: string;
}

/** The upstream block every domain proxies to; its Lua balancer picks the peer. */
export const DYNAMIC_UPSTREAM = 'leengine_dynamic';

/**
 * The nginx `server` block(s) of one domain: a pure function of a validated config and
 * the host's listen settings. Upstream addresses and canary rules are not rendered: the
 * Lua balancer reads them from shared memory, so changing them never reloads nginx.
 */
export function renderDomain(config: DomainConfig, listen: ListenContext): string {
  const out: string[] = [];
  const header = `# domain ${config.domain} (application ${config.application}, group ${config.group}); written by slb-agent`;
  out.push(header);
  const tls = config.tls;
  if (tls?.redirectHttp) {
    out.push('server {');
    for (const address of listen.http) out.push(`    listen ${address};`);
    out.push(`    server_name ${quoteLiteral(config.domain)};`);
    out.push(`    set $leengine_domain ${quote(config.domain)};`);
    out.push('    return 308 https://$host$request_uri;');
    out.push('}');
  }
  out.push('server {');
  if (!tls?.redirectHttp) for (const address of listen.http) out.push(`    listen ${address};`);
  if (tls) {
    for (const address of listen.https) out.push(`    listen ${address} ssl;`);
    out.push(`    ssl_certificate ${quoteLiteral(`${listen.certDir}/${tls.certificate}.crt`)};`);
    out.push(`    ssl_certificate_key ${quoteLiteral(`${listen.certDir}/${tls.certificate}.key`)};`);
  }
  out.push(`    server_name ${quoteLiteral(config.domain)};`);
  out.push(`    set $leengine_domain ${quote(config.domain)};`);
  out.push(...serverSettings(config).map((line) => `    ${line}`));
  for (const location of config.locations) {
    out.push('');
    out.push(...renderLocation(config, location).map((line) => `    ${line}`));
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

function serverSettings(config: DomainConfig): string[] {
  const special = config.special;
  const lines: string[] = [];
  const bodyMb = special.clientMaxBodySizeMb ?? config.proxy.clientMaxBodySizeMb;
  lines.push(`client_max_body_size ${bodyMb}m;`);
  if (special.keepaliveTimeoutSeconds !== undefined)
    lines.push(`keepalive_timeout ${special.keepaliveTimeoutSeconds}s;`);
  if (special.largeClientHeaderBuffers) {
    const { count, sizeKb } = special.largeClientHeaderBuffers;
    lines.push(`large_client_header_buffers ${count} ${sizeKb}k;`);
  }
  if (special.allowCidrs) {
    for (const cidr of special.allowCidrs) lines.push(`allow ${cidr};`);
    lines.push('deny all;');
  }
  for (const h of config.headers.response)
    lines.push(`add_header ${quote(h.name)} ${quote(h.value)} always;`);
  return lines;
}

function renderLocation(config: DomainConfig, location: Location): string[] {
  const proxy: ProxySettings = { ...config.proxy, ...stripUndefined(location.proxy ?? {}) };
  const special = config.special;
  const modifier = location.match === 'exact' ? '= ' : '';
  const lines = [`location ${modifier}${quoteLiteral(location.path)} {`];
  const body: string[] = [
    'proxy_pass http://leengine_dynamic;',
    'proxy_http_version 1.1;',
    'proxy_set_header Host $host;',
    'proxy_set_header X-Real-IP $remote_addr;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
  ];
  if (proxy.websocket) {
    body.push('proxy_set_header Upgrade $http_upgrade;');
    body.push('proxy_set_header Connection $leengine_connection_upgrade;');
  } else {
    // Keep-alive to the backends needs an empty Connection header.
    body.push('proxy_set_header Connection "";');
  }
  for (const h of config.headers.request) body.push(`proxy_set_header ${quote(h.name)} ${quote(h.value)};`);
  body.push(`proxy_connect_timeout ${proxy.connectTimeoutSeconds}s;`);
  body.push(`proxy_read_timeout ${proxy.readTimeoutSeconds}s;`);
  body.push(`proxy_send_timeout ${proxy.sendTimeoutSeconds}s;`);
  if (location.proxy?.clientMaxBodySizeMb !== undefined && special.clientMaxBodySizeMb === undefined)
    body.push(`client_max_body_size ${proxy.clientMaxBodySizeMb}m;`);
  body.push(`proxy_buffering ${proxy.buffering ? 'on' : 'off'};`);
  if (special.proxyBufferSizeKb !== undefined) body.push(`proxy_buffer_size ${special.proxyBufferSizeKb}k;`);
  if (special.proxyBuffers)
    body.push(`proxy_buffers ${special.proxyBuffers.count} ${special.proxyBuffers.sizeKb}k;`);
  if (special.proxyBusyBuffersSizeKb !== undefined)
    body.push(`proxy_busy_buffers_size ${special.proxyBusyBuffersSizeKb}k;`);
  body.push('proxy_next_upstream error timeout;');
  body.push(`proxy_next_upstream_tries ${special.nextUpstreamTries ?? 3};`);
  lines.push(...body.map((line) => `    ${line}`));
  lines.push('}');
  return lines;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The file name of a domain's config inside a generation dir. */
export function domainFileName(domain: string): string {
  return `${domain}.conf`;
}
