import { NotFoundError, RESOURCE_TITLES, type ResourceKind } from '@leengine/common';
import type { Queryable } from '../db/database.ts';

/** Enough of a resource to check access to it and to name it in records. */
export interface ResourceRef {
  kind: ResourceKind;
  id: number;
  /** As users write it: the application's name, or `group/name` for an image repository. */
  name: string;
  /** Image repositories: their group, whose members they inherit. */
  groupId?: number;
  /** Image repositories: readable and pullable by everyone. */
  public?: boolean;
}

/** The one "not found" of a resource: the same for "does not exist" and "you may not know". */
export function notFound(kind: ResourceKind, name: string): NotFoundError {
  return new NotFoundError(`${RESOURCE_TITLES[kind].toLowerCase()} "${name}" not found`);
}

const SIMPLE: Record<Exclude<ResourceKind, 'image-repository'>, string> = {
  application: 'applications',
  'image-group': 'image_groups',
  'build-project': 'build_projects',
};

/**
 * Finds a resource by the name users write (`group/name` for image repositories).
 * `forUpdate` locks its row until the transaction ends: member changes on one resource
 * then run one after another (the last-Owner rule cannot be raced).
 */
export async function findResource(
  q: Queryable,
  kind: ResourceKind,
  name: string,
  options: { forUpdate?: boolean } = {},
): Promise<ResourceRef | undefined> {
  const lock = options.forUpdate ? 'for update' : '';
  if (kind === 'image-repository') {
    const [group, repository, ...rest] = name.split('/');
    if (!group || !repository || rest.length > 0) return undefined;
    const [row] = await q.query<{ id: number; groupId: number; public: boolean }>(
      `select r.id, r.group_id as "groupId", r.public from image_repositories r
       join image_groups g on g.id = r.group_id where g.name = $1 and r.name = $2 ${lock ? 'for update of r' : ''}`,
      [group, repository],
    );
    return row ? { kind, id: row.id, name, groupId: row.groupId, public: row.public } : undefined;
  }
  const [row] = await q.query<{ id: number }>(`select id from ${SIMPLE[kind]} where name = $1 ${lock}`, [
    name,
  ]);
  return row ? { kind, id: row.id, name } : undefined;
}
