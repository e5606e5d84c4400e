import type { Robot, RobotAction } from '@leengine/common';
import type { Queryable } from '../db/database.ts';

/** What owns a robot: an image group or a build project. */
export type RobotOwner = { kind: 'image-group'; id: number } | { kind: 'build-project'; id: number };

export interface RobotRow {
  id: number;
  imageGroupId: number | null;
  buildProjectId: number | null;
  name: string;
  username: string;
  description: string;
  actions: RobotAction[];
  createdById: number;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
}

const COLUMNS = `b.id, b.image_group_id as "imageGroupId", b.build_project_id as "buildProjectId", b.name,
  b.username, b.description, b.actions, b.created_by as "createdById", u.username as "createdBy",
  b.created_at as "createdAt", b.expires_at as "expiresAt", b.last_used_at as "lastUsedAt"`;
const FROM = 'robot_accounts b join users u on u.id = b.created_by';

function ownerColumn(owner: RobotOwner): string {
  return owner.kind === 'image-group' ? 'image_group_id' : 'build_project_id';
}

export function toRobot(row: RobotRow): Robot {
  return {
    name: row.name,
    username: row.username,
    description: row.description,
    actions: row.actions,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

export async function insertRobot(
  q: Queryable,
  robot: {
    owner: RobotOwner;
    name: string;
    username: string;
    description: string;
    actions: RobotAction[];
    secretHash: string;
    createdById: number;
    at: Date;
    expiresAt: Date;
  },
): Promise<RobotRow> {
  const [row] = await q.query<{ id: number }>(
    `insert into robot_accounts (${ownerColumn(robot.owner)}, name, username, description, actions, secret_hash,
       created_by, created_at, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id`,
    [
      robot.owner.id,
      robot.name,
      robot.username,
      robot.description,
      robot.actions,
      robot.secretHash,
      robot.createdById,
      robot.at,
      robot.expiresAt,
    ],
  );
  return (await findRobotById(q, (row as { id: number }).id)) as RobotRow;
}

export async function findRobotById(q: Queryable, id: number): Promise<RobotRow | undefined> {
  const [row] = await q.query<RobotRow>(`select ${COLUMNS} from ${FROM} where b.id = $1`, [id]);
  return row;
}

/** The robot a secret belongs to (by its sha256). */
export async function findRobotBySecret(q: Queryable, secretHash: string): Promise<RobotRow | undefined> {
  const [row] = await q.query<RobotRow>(`select ${COLUMNS} from ${FROM} where b.secret_hash = $1`, [
    secretHash,
  ]);
  return row;
}

export async function findRobotByUsername(q: Queryable, username: string): Promise<RobotRow | undefined> {
  const [row] = await q.query<RobotRow>(`select ${COLUMNS} from ${FROM} where b.username = $1`, [username]);
  return row;
}

export async function findRobot(
  q: Queryable,
  owner: RobotOwner,
  name: string,
): Promise<RobotRow | undefined> {
  const [row] = await q.query<RobotRow>(
    `select ${COLUMNS} from ${FROM} where b.${ownerColumn(owner)} = $1 and b.name = $2`,
    [owner.id, name],
  );
  return row;
}

/** An owner's robots, by name (a handful per group or project: not paged). */
export async function listRobots(q: Queryable, owner: RobotOwner): Promise<RobotRow[]> {
  return q.query<RobotRow>(
    `select ${COLUMNS} from ${FROM} where b.${ownerColumn(owner)} = $1 order by b.name`,
    [owner.id],
  );
}

export async function deleteRobot(q: Queryable, id: number): Promise<void> {
  await q.query('delete from robot_accounts where id = $1', [id]);
}

export async function touchRobot(q: Queryable, id: number, at: Date): Promise<void> {
  await q.query('update robot_accounts set last_used_at = $2 where id = $1', [id, at]);
}
