import { createHash } from 'node:crypto';

/** The weight of `candidate` for `key` under rendezvous (highest random weight) hashing. */
export function rendezvousScore(key: string, candidate: string): bigint {
  return createHash('sha256').update(key).update('\0').update(candidate).digest().readBigUInt64BE(0);
}

/**
 * Candidates ordered by rendezvous hashing of `key`: the first is the key's home while it
 * lives; when it leaves, only its keys move (each to its own next candidate).
 */
export function rendezvousOrder(key: string, candidates: readonly string[]): string[] {
  return candidates
    .map((candidate) => ({ candidate, score: rendezvousScore(key, candidate) }))
    .sort((a, b) =>
      a.score === b.score ? a.candidate.localeCompare(b.candidate) : a.score > b.score ? -1 : 1,
    )
    .map((s) => s.candidate);
}
