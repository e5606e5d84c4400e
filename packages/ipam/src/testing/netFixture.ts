// Network namespaces, bridges and routes for tests, named after the test process so
// that leftovers of a crashed run can be told from a running one, and removed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const NETNS_DIR = '/run/netns';
/** Test routes are `unreachable` with this metric: a bridge's connected route wins while it exists. */
const ROUTE_METRIC = '4242';
const TAG = /^[a-z0-9]{1,5}$/;

function ip(...args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes namespaces (`lt<pid>-*`) and bridges (`lb<pid>-*`) whose test process is gone.
 * The veth pairs go with their namespaces.
 */
export function removeLeftovers(): void {
  const owner = (name: string, prefix: string) => {
    const m = new RegExp(`^${prefix}([0-9a-z]+)-`).exec(name);
    return m ? Number.parseInt(m[1] as string, 36) : undefined;
  };
  let names: string[] = [];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    // no namespaces at all
  }
  for (const name of names) {
    const pid = owner(name, 'lt');
    if (pid !== undefined && !alive(pid)) ip('netns', 'del', name);
  }
  const links = JSON.parse(ip('-j', 'link', 'show', 'type', 'bridge').out || '[]') as { ifname: string }[];
  for (const { ifname } of links) {
    const pid = owner(ifname, 'lb');
    if (pid !== undefined && !alive(pid)) ip('link', 'del', ifname);
  }
}

/**
 * One test file's network things. `ranges` get an `unreachable` route first, so no
 * packet to them can leave the machine even when a bridge is gone.
 */
export class NetFixture {
  readonly #prefix: string;
  readonly #ranges: string[];
  readonly #netns = new Set<string>();
  readonly #bridges = new Set<string>();
  #count = 0;

  private constructor(tag: string, ranges: string[]) {
    this.#prefix = `${process.pid.toString(36)}-${tag}`;
    this.#ranges = ranges;
  }

  static create(tag: string, ranges: string[]): NetFixture {
    if (!TAG.test(tag)) throw new Error(`fixture tag must match ${TAG}`);
    removeLeftovers();
    const fixture = new NetFixture(tag, ranges);
    for (const cidr of ranges) {
      const r = ip('route', 'replace', 'unreachable', cidr, 'metric', ROUTE_METRIC);
      if (!r.ok) throw new Error(`ip route replace unreachable ${cidr}: ${r.err}`);
    }
    return fixture;
  }

  /** A bridge name for this fixture (created by the plugin on first ADD). */
  bridge(suffix = ''): string {
    const name = `lb${this.#prefix}${suffix}`;
    if (name.length > 15) throw new Error(`bridge name ${name} is too long`);
    this.#bridges.add(name);
    return name;
  }

  /** Creates a fresh network namespace; returns its path. */
  netns(): string {
    const name = `lt${this.#prefix}-${++this.#count}`;
    const r = ip('netns', 'add', name);
    if (!r.ok) throw new Error(`ip netns add ${name}: ${r.err}`);
    this.#netns.add(name);
    return `${NETNS_DIR}/${name}`;
  }

  /** Deletes one namespace now (its veth pair goes with it). */
  deleteNetns(path: string): void {
    const name = path.slice(NETNS_DIR.length + 1);
    ip('netns', 'del', name);
    this.#netns.delete(name);
  }

  cleanup(): void {
    for (const name of this.#netns) ip('netns', 'del', name);
    for (const name of this.#bridges) ip('link', 'del', name);
    for (const cidr of this.#ranges) ip('route', 'del', 'unreachable', cidr, 'metric', ROUTE_METRIC);
    this.#netns.clear();
    this.#bridges.clear();
  }
}

/** Runs a command inside a namespace (argv, never a shell). */
export function inNetns(
  path: string,
  argv: string[],
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('nsenter', [`--net=${path}`, ...argv], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
