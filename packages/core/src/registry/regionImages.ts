import type { Caller } from '../auth/caller.ts';
import type { Database } from '../db/database.ts';
import { findImageGroup } from '../imageGroups/imageGroupStore.ts';
import { findImageRepository } from '../imageRepositories/imageRepositoryStore.ts';
import type { Services } from '../services.ts';

/** The group holding the images every cell needs (pause, test images): public, owned by an admin. */
export const SYSTEM_IMAGE_GROUP = 'leengine';
const SYSTEM_REPOSITORIES = ['pause', 'httpbox'];
const ROBOT = 'local-region';

/**
 * Makes the system images' group and public repositories exist (as the first active
 * admin) and returns fresh push credentials for them: a robot of the group that lives a
 * day, replaced on every start (its secret is never stored). For the local region, whose
 * cells push their pause image before they start.
 */
export async function systemImageCredentials(db: Database, services: Services): Promise<string> {
  const [admin] = await db.query<{ id: number; username: string }>(
    'select id, username from users where admin and not disabled order by id limit 1',
  );
  if (!admin) throw new Error('no active admin to own the system images');
  const caller: Caller = { userId: admin.id, username: admin.username, admin: true, via: 'token' };
  if (!(await findImageGroup(db, SYSTEM_IMAGE_GROUP))) {
    await services.imageGroups.create(caller, {
      name: SYSTEM_IMAGE_GROUP,
      description: 'Images every cell needs (pause, test images)',
    });
  }
  for (const name of SYSTEM_REPOSITORIES) {
    if (!(await findImageRepository(db, SYSTEM_IMAGE_GROUP, name))) {
      await services.imageRepositories.create(caller, SYSTEM_IMAGE_GROUP, {
        name,
        description: '',
        public: true,
      });
    }
  }
  const robots = await services.robots.list(caller, 'image-group', SYSTEM_IMAGE_GROUP);
  if (robots.some((r) => r.name === ROBOT))
    await services.robots.delete(caller, 'image-group', SYSTEM_IMAGE_GROUP, ROBOT);
  const robot = await services.robots.create(caller, 'image-group', SYSTEM_IMAGE_GROUP, {
    name: ROBOT,
    description: 'pushes the cell images at local region start',
    actions: ['push'],
    expiresInDays: 1,
  });
  return `${robot.username}:${robot.secret}`;
}
