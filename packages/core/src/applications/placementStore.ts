import type { Queryable } from '../db/database.ts';

export type PlacementState = 'active' | 'leaving';

/** One cell an application runs in. */
export interface PlacementRow {
  applicationId: number;
  application: string;
  cellId: number;
  cell: string;
  state: PlacementState;
  syncedAt: Date | null;
  syncError: string | null;
}

const COLUMNS = `ac.application_id as "applicationId", a.name as application, ac.cell_id as "cellId", c.name as cell,
  ac.state, ac.synced_at as "syncedAt", ac.sync_error as "syncError"`;
const FROM =
  'application_cells ac join applications a on a.id = ac.application_id join cells c on c.id = ac.cell_id';

export async function placementsOf(q: Queryable, applicationId: number): Promise<PlacementRow[]> {
  return q.query<PlacementRow>(
    `select ${COLUMNS} from ${FROM} where ac.application_id = $1 order by c.name`,
    [applicationId],
  );
}

export async function placementsOnCell(q: Queryable, cellId: number): Promise<PlacementRow[]> {
  return q.query<PlacementRow>(`select ${COLUMNS} from ${FROM} where ac.cell_id = $1 order by a.name`, [
    cellId,
  ]);
}

/** Every placement: the runtime's full resync. */
export async function allPlacements(q: Queryable): Promise<PlacementRow[]> {
  return q.query<PlacementRow>(`select ${COLUMNS} from ${FROM}`);
}

export async function insertPlacement(
  q: Queryable,
  applicationId: number,
  cellId: number,
  state: PlacementState,
  at: Date,
): Promise<void> {
  await q.query(
    `insert into application_cells (application_id, cell_id, state, created_at) values ($1, $2, $3, $4)
     on conflict (application_id, cell_id) do update set state = excluded.state`,
    [applicationId, cellId, state, at],
  );
}

export async function setPlacementState(
  q: Queryable,
  applicationId: number,
  cellId: number,
  state: PlacementState,
): Promise<void> {
  await q.query('update application_cells set state = $3 where application_id = $1 and cell_id = $2', [
    applicationId,
    cellId,
    state,
  ]);
}

export async function deletePlacement(q: Queryable, applicationId: number, cellId: number): Promise<void> {
  await q.query('delete from application_cells where application_id = $1 and cell_id = $2', [
    applicationId,
    cellId,
  ]);
}

/** The reconciler's last run for an application in a cell (error null: it converged or is converging). */
export async function recordSync(
  q: Queryable,
  applicationId: number,
  cellId: number,
  error: string | null,
  at: Date,
): Promise<void> {
  await q.query(
    'update application_cells set synced_at = $3, sync_error = $4 where application_id = $1 and cell_id = $2',
    [applicationId, cellId, at, error],
  );
}
