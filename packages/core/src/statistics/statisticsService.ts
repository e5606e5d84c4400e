import {
  COUNTED_OPERATIONS,
  NotAllowedError,
  type OperationStats,
  type OperationStatsQuery,
  type SummaryStats,
} from '@leengine/common';
import type { Caller } from '../auth/caller.ts';
import type { Database } from '../db/database.ts';

export interface StatisticsServiceDeps {
  db: Database;
}

type Counted = keyof typeof COUNTED_OPERATIONS;
const COUNTED = Object.entries(COUNTED_OPERATIONS) as [
  Counted,
  { kind: string; actions: readonly string[] },
][];

/** Figures for the boss console (admins only), computed from the activity record. */
export class StatisticsService {
  readonly #db: Database;

  private constructor(deps: StatisticsServiceDeps) {
    this.#db = deps.db;
  }

  static create(deps: StatisticsServiceDeps): StatisticsService {
    return new StatisticsService(deps);
  }

  /**
   * Per UTC day from `from` to `to` (inclusive): accepted requests to deploy (rollbacks
   * included), build, push an image and scale; refused ones do not count.
   */
  async operations(caller: Caller, query: OperationStatsQuery): Promise<OperationStats> {
    assertAdmin(caller);
    const params: unknown[] = [query.from, query.to];
    const matches = COUNTED.map(([, { kind, actions }]) => {
      params.push(kind, actions);
      return `(resource_kind = $${params.length - 1} and action = any($${params.length}::text[]))`;
    });
    const rows = await this.#db.query<{ day: string; kind: string; action: string; n: number }>(
      `select to_char((at at time zone 'UTC')::date, 'YYYY-MM-DD') as day, resource_kind as kind, action,
              count(*)::int as n
       from activity
       where result = 'succeeded'
         and at >= ($1::date)::timestamp at time zone 'UTC'
         and at < ($2::date + 1)::timestamp at time zone 'UTC'
         and (${matches.join(' or ')})
       group by 1, 2, 3`,
      params,
    );
    const days: OperationStats['days'] = [];
    for (let t = Date.parse(query.from); t <= Date.parse(query.to); t += 86_400_000) {
      const day = new Date(t).toISOString().slice(0, 10);
      const counts = Object.fromEntries(
        COUNTED.map(([name, op]) => [
          name,
          rows
            .filter((r) => r.day === day && r.kind === op.kind && op.actions.includes(r.action))
            .reduce((n, r) => n + r.n, 0),
        ]),
      ) as Record<Counted, number>;
      days.push({ day, ...counts });
    }
    return { days };
  }

  async summary(caller: Caller): Promise<SummaryStats> {
    assertAdmin(caller);
    const [row] = await this.#db.query<SummaryStats>(
      `select (select count(*)::int from users) as users,
              (select count(*)::int from applications) as applications,
              (select count(*)::int from image_groups) as "imageGroups",
              (select count(*)::int from image_repositories) as "imageRepositories",
              (select count(*)::int from build_projects) as "buildProjects"`,
    );
    return row as SummaryStats;
  }
}

function assertAdmin(caller: Caller): void {
  if (!caller.admin) throw new NotAllowedError('statistics are for admins');
}
