import { parseArgs } from 'node:util';
import { DomainError, InputError } from '@leengine/common';
import { Etcd3 } from 'etcd3';
import { Ipam } from '../ipam.ts';
import type { Allocation } from '../model.ts';
import { type CheckReport, checkLeaks, DEFAULT_GRACE_MS, verdict } from './leakCheck.ts';
import type { PodLister } from './podLister.ts';
import { table } from './table.ts';

export const USAGE = `cnictl: the container network's IPAM (segments, blocks, addresses) in etcd

usage: cnictl [--etcd URLS] [--cell NAME] [-o table|json] COMMAND

  segment add CIDR [--gateway IP] [--vlan N] [--exclude RANGE]... [--exist-ok]
  segment list
  segment remove CIDR              only when none of its addresses is allocated
  pool add NAMESPACE --size N [--segment CIDR]
                                   fixed addresses for an application (kept across upgrades)
  pool list
  pool remove NAMESPACE            only when none of its addresses is in use
  usage [--blocks]                 per segment and per node (and per block)
  check [--grace 10m]              addresses held for pods that are gone (exit 3 if any)
  release IP [--dry-run]           frees one address; refuses while its pod exists
  gc [--grace 10m] [--dry-run]     releases what check finds, then empty blocks of nodes without pods

  --etcd      etcd endpoints, comma-separated (env LEENGINE_ETCD_ENDPOINTS)
  --cell      the cell (env LEENGINE_CELL)
  --kubeconfig  the cell's kubeconfig, for check, release and gc (env KUBECONFIG)
exit: 0 ok, 1 failed, 2 usage error, 3 check found leaks
`;

export interface CnictlDeps {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Builds the pod lister for a kubeconfig (default: the Kubernetes client, loaded lazily). */
  podLister?: (kubeconfig: string) => Promise<PodLister>;
  now?: () => Date;
}

class UsageError extends Error {}

const OPTIONS = {
  etcd: { type: 'string' },
  cell: { type: 'string' },
  output: { type: 'string', short: 'o', default: 'table' },
  kubeconfig: { type: 'string' },
  gateway: { type: 'string' },
  vlan: { type: 'string' },
  exclude: { type: 'string', multiple: true },
  size: { type: 'string' },
  segment: { type: 'string' },
  grace: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  'exist-ok': { type: 'boolean', default: false },
  blocks: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Runs one cnictl command line; returns the exit code. */
export async function runCnictl(argv: string[], deps: CnictlDeps): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (error) {
    deps.err(`cnictl: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    (values.help ? deps.out : deps.err)(USAGE);
    return values.help ? 0 : 2;
  }
  const endpoints = (values.etcd ?? deps.env.LEENGINE_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);
  const cell = values.cell ?? deps.env.LEENGINE_CELL;
  const json = values.output === 'json';
  if (values.output !== 'json' && values.output !== 'table') {
    deps.err('cnictl: -o must be table or json\n');
    return 2;
  }
  if (endpoints.length === 0 || !cell) {
    deps.err(
      'cnictl: say which etcd (--etcd or LEENGINE_ETCD_ENDPOINTS) and which cell (--cell or LEENGINE_CELL)\n',
    );
    return 2;
  }
  const client = new Etcd3({ hosts: endpoints, dialTimeout: 5_000 });
  const ipam = Ipam.create({ client, cell, ...(deps.now ? { now: deps.now } : {}) });
  const print = (value: unknown, text: () => string) =>
    deps.out(json ? `${JSON.stringify(value, null, 2)}\n` : text());
  const lister = async () => {
    const kubeconfig = values.kubeconfig ?? deps.env.KUBECONFIG;
    if (!kubeconfig)
      throw new UsageError("this command reads the cell's pods: pass --kubeconfig (or set KUBECONFIG)");
    if (deps.podLister) return deps.podLister(kubeconfig);
    const { KubePodLister } = await import('./kubePodLister.ts');
    return KubePodLister.fromKubeconfig(kubeconfig);
  };
  const [command, sub, arg] = positionals;
  try {
    const graceMs = values.grace === undefined ? DEFAULT_GRACE_MS : parseDuration(values.grace);
    switch (`${command} ${command === 'segment' || command === 'pool' ? sub : ''}`.trim()) {
      case 'segment add': {
        const spec = {
          cidr: required(arg, 'CIDR'),
          gateway: values.gateway,
          vlan: values.vlan === undefined ? undefined : Number(values.vlan),
          exclude: values.exclude,
        };
        if (values['exist-ok']) {
          const same = (await ipam.listSegments()).find(
            (s) => s.cidr === spec.cidr && (spec.gateway === undefined || s.gateway === spec.gateway),
          );
          if (same) {
            print(same, () => `segment ${same.cidr} already exists (gateway ${same.gateway})\n`);
            return 0;
          }
        }
        const segment = await ipam.addSegment(spec);
        print(segment, () => `segment ${segment.cidr} added (gateway ${segment.gateway})\n`);
        return 0;
      }
      case 'segment list': {
        const segments = await ipam.listSegments();
        print(segments, () =>
          table(
            ['CIDR', 'GATEWAY', 'VLAN', 'EXCLUDED', 'STATE', 'ADDED'],
            segments.map((s) => [
              s.cidr,
              s.gateway,
              s.vlan,
              s.exclude.join(',') || undefined,
              s.state,
              s.createdAt,
            ]),
          ),
        );
        return 0;
      }
      case 'segment remove': {
        await ipam.removeSegment(required(arg, 'CIDR'));
        print({ removed: arg }, () => `segment ${arg} removed\n`);
        return 0;
      }
      case 'pool add': {
        const pool = await ipam.createPool({
          namespace: required(arg, 'NAMESPACE'),
          size: Number(required(values.size, '--size')),
          segment: values.segment,
        });
        print(pool, () => `fixed pool ${pool.cidr} for ${pool.namespace} (${pool.blocks.length} blocks)\n`);
        return 0;
      }
      case 'pool list': {
        const pools = await ipam.listPools();
        print(pools, () =>
          table(
            ['NAMESPACE', 'CIDR', 'SIZE', 'SEGMENT', 'ADDED'],
            pools.map((p) => [p.namespace, p.cidr, p.size, p.segment, p.createdAt]),
          ),
        );
        return 0;
      }
      case 'pool remove': {
        await ipam.removePool(required(arg, 'NAMESPACE'));
        print({ removed: arg }, () => `fixed pool of ${arg} removed\n`);
        return 0;
      }
      case 'usage': {
        const usage = await ipam.usage();
        print(usage, () => {
          let text = table(
            ['SEGMENT', 'GATEWAY', 'VLAN', 'STATE', 'BLOCKS', 'ADDRESSES', 'ALLOCATED', 'FREE'],
            usage.segments.map((s) => [
              s.cidr,
              s.gateway,
              s.vlan,
              s.state,
              `${s.blocksClaimed}/${s.blocks}`,
              s.usable,
              s.allocated,
              s.usable - s.allocated,
            ]),
          );
          text += `\n${table(
            ['NODE', 'BLOCKS', 'ADDRESSES', 'ALLOCATED', 'PODS'],
            usage.nodes.map((n) => [n.node, n.blocks, n.usable, n.allocated, n.pods]),
          )}`;
          if (values.blocks) {
            text += `\n${table(
              ['BLOCK', 'SEGMENT', 'OWNER', 'STATE', 'ADDRESSES', 'ALLOCATED'],
              usage.blocks.map((b) => [b.cidr, b.segment, b.owner, b.state, b.usable, b.allocated]),
            )}`;
          }
          return text;
        });
        return 0;
      }
      case 'check': {
        const report = await checkLeaks(ipam, await lister(), {
          graceMs,
          ...(deps.now ? { now: deps.now } : {}),
        });
        print(report, () => renderReport(report, deps.now?.() ?? new Date()));
        return report.leaks.length > 0 ? 3 : 0;
      }
      case 'release': {
        const ip = required(sub, 'IP');
        const current = await ipam.getAllocation(ip);
        if (!current) throw new InputError(`${ip} is not allocated in cell ${cell}`);
        const { namespace, pod } = current.value;
        if (namespace && pod) {
          const found = await (await lister()).getPod(namespace, pod);
          if (found && !verdict(current.value, found)) {
            throw new InputError(
              `${ip} belongs to pod ${namespace}/${pod} (uid ${found.uid}, ${found.phase}), which exists: not releasing`,
            );
          }
        }
        if (values['dry-run']) {
          print({ wouldRelease: current.value }, () => `would release ${ip} (${describe(current.value)})\n`);
          return 0;
        }
        const released = await ipam.releaseAddress(ip, { expectedRevision: current.modRevision });
        print({ released }, () => `released ${ip} (${describe(released)})\n`);
        return 0;
      }
      case 'gc': {
        const pods = await lister();
        const report = await checkLeaks(ipam, pods, { graceMs, ...(deps.now ? { now: deps.now } : {}) });
        const released: string[] = [];
        const skipped: { ip: string; why: string }[] = [];
        for (const leak of values['dry-run'] ? [] : report.leaks) {
          try {
            await ipam.releaseAddress(leak.ip, { expectedRevision: leak.revision });
            released.push(leak.ip);
          } catch (error) {
            skipped.push({ ip: leak.ip, why: (error as Error).message });
          }
        }
        const busyNodes = new Set((await pods.listPods()).map((p) => p.node).filter(Boolean));
        const idle = (b: { node?: string | undefined }) => b.node !== undefined && !busyNodes.has(b.node);
        const blocks = values['dry-run']
          ? (await ipam.listBlocks()).filter(idle).map((b) => b.cidr)
          : await ipam.releaseEmptyBlocks(idle);
        const result = { dryRun: values['dry-run'], leaks: report.leaks, released, skipped, blocks };
        print(result, () => {
          const verb = values['dry-run'] ? 'would release' : 'released';
          const lines = report.leaks.map((l) => `${verb} ${l.ip} (${l.reason}: ${describe(l.allocation)})`);
          lines.push(...skipped.map((s) => `skipped ${s.ip}: ${s.why}`));
          lines.push(
            `${verb} ${blocks.length} ${values['dry-run'] ? 'blocks of nodes without pods (if empty)' : 'empty blocks of nodes without pods'}${blocks.length ? `: ${blocks.join(', ')}` : ''}`,
          );
          return `${lines.join('\n')}\n`;
        });
        return 0;
      }
      default:
        throw new UsageError(`unknown command: ${positionals.join(' ')}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      deps.err(`cnictl: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof InputError && error.fields.length > 0) {
      deps.err(
        `cnictl: ${error.message}\n${error.fields.map((f) => `  ${f.path}: ${f.message}\n`).join('')}`,
      );
    } else if (error instanceof DomainError) {
      deps.err(`cnictl: ${error.message}\n`);
    } else {
      deps.err(`cnictl: ${(error as Error).message ?? String(error)}\n`);
    }
    return 1;
  } finally {
    client.close();
  }
}

function renderReport(report: CheckReport, now: Date): string {
  const rows = report.leaks.map((l) => [
    l.ip,
    l.reason,
    `${l.allocation.namespace}/${l.allocation.pod}`,
    l.allocation.node,
    l.allocation.containerId.slice(0, 12),
    age(now, l.allocation.createdAt),
  ]);
  const summary =
    `cell ${report.cell}: ${report.allocations} addresses allocated, ${report.pods} pods, ` +
    `${report.leaks.length} leaked, ${report.young} too young to judge, ` +
    `${report.dismissed} cleared by a fresh read, ${report.unattributed} without a pod name\n`;
  return report.leaks.length
    ? `${table(['IP', 'REASON', 'POD', 'NODE', 'CONTAINER', 'AGE'], rows)}\n${summary}`
    : summary;
}

function describe(a: Allocation): string {
  return `${a.namespace || '?'}/${a.pod || '?'} on ${a.node}, container ${a.containerId.slice(0, 12)}`;
}

function age(now: Date, iso: string): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

/** `90s`, `10m`, `2h`, `0`, or a number of seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`not a duration: ${text} (use e.g. 90s, 10m, 2h)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
}
