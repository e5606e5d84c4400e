import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * What a restarted agent needs to resume its watch instead of listing the whole group:
 * the etcd revision it last applied and the snapshot of the group it rendered from
 * (domain -> raw config and upstreams JSON, as etcd held them at that revision).
 */
export interface AppliedState {
  group: string;
  revision: number;
  configs: Map<string, string>;
  upstreams: Map<string, string>;
}

const FileSchema = z
  .object({
    format: z.literal(1),
    group: z.string(),
    revision: z.number().int().positive(),
    configs: z.record(z.string(), z.string()),
    upstreams: z.record(z.string(), z.string()),
  })
  .strict();

/** `<root>/state/applied.json`: beside nginx's prefix dir, owned by the agent. */
export function appliedStatePath(root: string): string {
  return join(root, 'state', 'applied.json');
}

/**
 * The applied state of `group` kept under `root`, or undefined when there is none, it is
 * unreadable or it belongs to another group (the agent then lists the group).
 */
export function readAppliedState(root: string, group: string): AppliedState | undefined {
  let raw: string;
  try {
    raw = readFileSync(appliedStatePath(root), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = FileSchema.safeParse(JSON.parse(raw));
    if (!parsed.success || parsed.data.group !== group) return undefined;
    return {
      group,
      revision: parsed.data.revision,
      configs: new Map(Object.entries(parsed.data.configs)),
      upstreams: new Map(Object.entries(parsed.data.upstreams)),
    };
  } catch {
    return undefined;
  }
}

/**
 * Writes the applied state atomically (a flushed temp file renamed over the old one): a
 * crash leaves the previous state or the new one, never half of one.
 */
export function writeAppliedState(root: string, state: AppliedState): void {
  const path = appliedStatePath(root);
  mkdirSync(join(root, 'state'), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  const body = JSON.stringify({
    format: 1,
    group: state.group,
    revision: state.revision,
    configs: Object.fromEntries(state.configs),
    upstreams: Object.fromEntries(state.upstreams),
  });
  writeFileSync(temp, body, { mode: 0o600, flush: true });
  renameSync(temp, path);
}
