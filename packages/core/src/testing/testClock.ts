import type { Clock } from '../clock.ts';

/** A clock tests move by hand; starts at a fixed instant so figures are repeatable. */
export class TestClock {
  #now: number;

  constructor(start = Date.parse('2025-03-01T08:00:00.000Z')) {
    this.#now = start;
  }

  readonly clock: Clock = () => new Date(this.#now);

  advance(ms: number): void {
    this.#now += ms;
  }

  set(iso: string): void {
    this.#now = Date.parse(iso);
  }
}
