import { refNameProblem } from '@leengine/common';
import { z } from 'zod';

/** The fields LeEngine reads from GitLab's push and tag push events. */
export const GitlabPushSchema = z.object({
  object_kind: z.enum(['push', 'tag_push']),
  ref: z.string(),
  /** "0000…" when the branch or tag was deleted. */
  after: z.string(),
  checkout_sha: z.string().nullable().optional(),
  user_username: z.string().optional(),
});

export type PushTarget =
  | { kind: 'branch'; name: string; commit: string }
  | { kind: 'tag'; name: string; commit: string }
  | { kind: 'ignored'; reason: string };

/** What a GitLab push event asks to build, if anything. */
export function pushTarget(payload: z.infer<typeof GitlabPushSchema>): PushTarget {
  if (/^0+$/.test(payload.after)) return { kind: 'ignored', reason: 'a deletion' };
  const commit = payload.checkout_sha ?? payload.after;
  const match = /^refs\/(heads|tags)\/(.+)$/.exec(payload.ref);
  if (!match?.[2]) return { kind: 'ignored', reason: `not a branch or tag ref: ${payload.ref}` };
  const problem = refNameProblem(match[2]);
  if (problem) return { kind: 'ignored', reason: `invalid ref name: it ${problem}` };
  if (!/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(commit)) return { kind: 'ignored', reason: 'no commit id' };
  return { kind: match[1] === 'heads' ? 'branch' : 'tag', name: match[2], commit };
}

/** Branch filters: exact names, or `prefix/*` for everything under a prefix. */
export function branchMatches(branch: string, filters: readonly string[], defaultBranch: string): boolean {
  if (filters.length === 0) return branch === defaultBranch;
  return filters.some((f) =>
    f.endsWith('/*') ? branch.startsWith(f.slice(0, -1)) : f === '*' || f === branch,
  );
}
