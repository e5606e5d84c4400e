import type { Canary, Upstream } from '@leengine/common';

/**
 * The text the Lua balancer reads for one domain (see lua/leengine/slb.lua): the canary
 * rule, then one line per peer, sorted so that equal inputs give equal text (the agent
 * compares texts to skip pushes that change nothing). Pure.
 */
export function renderDynamicState(upstreams: readonly Upstream[], canary: Canary | undefined): string {
  const lines: string[] = [];
  if (canary) {
    const headerVar = canary.header ? `http_${canary.header.name.toLowerCase().replaceAll('-', '_')}` : '-';
    const cookieVar = canary.cookie ? `cookie_${canary.cookie.name}` : '-';
    lines.push(
      [
        'canary',
        canary.version,
        String(canary.weight),
        headerVar,
        canary.header?.value ?? '-',
        cookieVar,
        canary.cookie?.value ?? '-',
      ].join(' '),
    );
  }
  const peers = upstreams
    .map((u) => `peer ${u.ip} ${u.port} ${u.weight} ${u.version || '-'}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // The same address twice (two cells reporting one IP) would double its weight.
  lines.push(...new Set(peers));
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** One batch for the control server: `@<domain>` sections; `null` state deletes the domain. */
export function renderControlBatch(changes: ReadonlyMap<string, string | null>): string {
  let body = '';
  for (const [domain, state] of changes) body += `@${domain}\n${state === null ? 'delete\n' : state}`;
  return body;
}
