import type { QuotaLimits, QuotaOverrides } from '@leengine/common';
import type { Queryable } from '../db/database.ts';

const LIMIT_COLUMNS = `applications, instances, cpu_millicores as "cpuMillicores", memory_mib as "memoryMib"`;

export type Overrides = { [K in keyof QuotaLimits]: number | null };

export async function readDefaults(q: Queryable): Promise<QuotaLimits> {
  const [row] = await q.query<QuotaLimits>(`select ${LIMIT_COLUMNS} from quota_defaults where id = 1`);
  if (!row) throw new Error('quota_defaults has no row (migration 1 inserts it)');
  return row;
}

export async function writeDefaults(q: Queryable, limits: QuotaLimits): Promise<QuotaLimits> {
  const [row] = await q.query<QuotaLimits>(
    `update quota_defaults set applications = $1, instances = $2, cpu_millicores = $3, memory_mib = $4
     where id = 1 returning ${LIMIT_COLUMNS}`,
    [limits.applications, limits.instances, limits.cpuMillicores, limits.memoryMib],
  );
  return row as QuotaLimits;
}

export async function readOverrides(q: Queryable, userId: number): Promise<Overrides> {
  const [row] = await q.query<Overrides>(`select ${LIMIT_COLUMNS} from user_quotas where user_id = $1`, [
    userId,
  ]);
  return row ?? { applications: null, instances: null, cpuMillicores: null, memoryMib: null };
}

/** Sets the fields given (null clears one back to the default); absent fields stay. */
export async function writeOverrides(
  q: Queryable,
  userId: number,
  changes: QuotaOverrides,
): Promise<Overrides> {
  const current = await readOverrides(q, userId);
  const next: Overrides = {
    applications: changes.applications === undefined ? current.applications : changes.applications,
    instances: changes.instances === undefined ? current.instances : changes.instances,
    cpuMillicores: changes.cpuMillicores === undefined ? current.cpuMillicores : changes.cpuMillicores,
    memoryMib: changes.memoryMib === undefined ? current.memoryMib : changes.memoryMib,
  };
  await q.query(
    `insert into user_quotas (user_id, applications, instances, cpu_millicores, memory_mib)
     values ($1, $2, $3, $4, $5)
     on conflict (user_id) do update set applications = excluded.applications, instances = excluded.instances,
       cpu_millicores = excluded.cpu_millicores, memory_mib = excluded.memory_mib`,
    [userId, next.applications, next.instances, next.cpuMillicores, next.memoryMib],
  );
  return next;
}

/** What a user's applications hold: they are charged to the user who created them. */
export async function readUsage(q: Queryable, userId: number): Promise<QuotaLimits> {
  const [row] = await q.query<QuotaLimits>(
    `select count(*)::int as applications, coalesce(sum(instances), 0)::int as instances,
            coalesce(sum(cpu_millicores), 0)::int as "cpuMillicores", coalesce(sum(memory_mib), 0)::int as "memoryMib"
     from applications where created_by = $1`,
    [userId],
  );
  return row as QuotaLimits;
}
