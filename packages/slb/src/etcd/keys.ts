/**
 * The SLB's etcd key layout (shared/ARCHITECTURE.md), all values JSON:
 *
 *   /slb/{group}/meta                          the group (hosts, VIP, CNAME)
 *   /slb/{group}/domains/{domain}/config       a domain's config (DomainConfig)
 *   /slb/{group}/domains/{domain}/upstreams    its backends [{ip, port, weight, cell, version}]
 *   /slb/{group}/agents/{host}                 lease-bound: alive, applied revision, last error
 *   /leengine/slb/domain-claims/{domain}       the group that owns a domain (one group per name)
 *
 * Group, domain and host names are validated before they become keys (DNS names hold no "/").
 */

export const SLB_ROOT = '/slb/';
export const DOMAIN_CLAIMS = '/leengine/slb/domain-claims/';

export const slbKeys = {
  group: (group: string) => `${SLB_ROOT}${group}/`,
  meta: (group: string) => `${SLB_ROOT}${group}/meta`,
  domains: (group: string) => `${SLB_ROOT}${group}/domains/`,
  domain: (group: string, domain: string) => `${SLB_ROOT}${group}/domains/${domain}/`,
  config: (group: string, domain: string) => `${SLB_ROOT}${group}/domains/${domain}/config`,
  upstreams: (group: string, domain: string) => `${SLB_ROOT}${group}/domains/${domain}/upstreams`,
  agents: (group: string) => `${SLB_ROOT}${group}/agents/`,
  agent: (group: string, host: string) => `${SLB_ROOT}${group}/agents/${host}`,
  claim: (domain: string) => `${DOMAIN_CLAIMS}${domain}`,
};

export type SlbKey =
  | { kind: 'meta'; group: string }
  | { kind: 'config' | 'upstreams'; group: string; domain: string }
  | { kind: 'agent'; group: string; host: string };

/** What an absolute key under /slb/ names, or undefined for keys we do not know. */
export function parseSlbKey(key: string): SlbKey | undefined {
  if (!key.startsWith(SLB_ROOT)) return undefined;
  const parts = key.slice(SLB_ROOT.length).split('/');
  const [group, kind, name, leaf] = parts;
  if (!group) return undefined;
  if (parts.length === 2 && kind === 'meta') return { kind: 'meta', group };
  if (parts.length === 3 && kind === 'agents' && name) return { kind: 'agent', group, host: name };
  if (parts.length === 4 && kind === 'domains' && name && (leaf === 'config' || leaf === 'upstreams'))
    return { kind: leaf, group, domain: name };
  return undefined;
}
