import type { Build, BuildLogLine } from '@leengine/common';

export type BuildStreamEvent = { kind: 'log'; line: BuildLogLine } | { kind: 'build'; build: Build };

/** Live fan-out of a build's log lines and status changes to SSE subscribers (this core only). */
export class LogHub {
  #listeners = new Map<number, Set<(event: BuildStreamEvent) => void>>();

  subscribe(buildId: number, listener: (event: BuildStreamEvent) => void): () => void {
    let set = this.#listeners.get(buildId);
    if (!set) {
      set = new Set();
      this.#listeners.set(buildId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(buildId);
    };
  }

  publish(buildId: number, event: BuildStreamEvent): void {
    for (const listener of this.#listeners.get(buildId) ?? []) listener(event);
  }
}
