import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError, NotAllowedError, type ResourceListQuery } from '@leengine/common';
import { useTestbed } from '@leengine/testbed';
import type { Caller } from '../auth/caller.ts';
import type { Services } from '../services.ts';
import { backends, callerIn, servicesOn } from '../testing/backends.ts';
import { TestClock } from '../testing/testClock.ts';

const testbed = useTestbed();

const query = (q: Partial<ResourceListQuery> = {}): ResourceListQuery => ({
  sort: 'name',
  limit: 50,
  scope: 'mine',
  ...q,
});

async function all(services: Services, caller: Caller, q: Partial<ResourceListQuery>): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await services.applications.list(caller, query({ ...q, cursor }));
    names.push(...page.items.map((a) => a.name));
    if (!page.nextCursor) return names;
    cursor = page.nextCursor;
  }
  throw new Error('no last page');
}

for (const backend of backends(testbed)) {
  test(`${backend.name}: "my applications" are those I am a member of, paged, sorted and searched in SQL`, async () => {
    const db = await backend.open();
    try {
      const clock = new TestClock();
      const services = servicesOn(db, clock);
      const admin = await callerIn(db, 'root', true);
      const alice = await callerIn(db, 'alice');
      const bob = await callerIn(db, 'bob');
      await services.quotas.setDefaults(admin, {
        applications: 100,
        instances: 0,
        cpuMillicores: 0,
        memoryMib: 0,
      });
      for (let i = 0; i < 23; i++) {
        clock.advance(1000);
        const owner = i % 2 === 0 ? alice : bob;
        await services.applications.create(owner, {
          name: `app-${String(i).padStart(2, '0')}`,
          description: i === 7 ? 'The Payment API' : '',
        });
      }
      // bob lets alice see one of his.
      await services.members.add(bob, 'application', 'app-01', { username: 'alice', role: 'guest' });

      const mine = Array.from({ length: 23 }, (_, i) => `app-${String(i).padStart(2, '0')}`).filter(
        (n, i) => i % 2 === 0 || n === 'app-01',
      );
      assert.deepEqual(await all(services, alice, { limit: 5 }), mine);
      assert.deepEqual(await all(services, alice, { limit: 4, sort: '-name' }), [...mine].reverse());
      assert.deepEqual(
        await all(services, alice, { limit: 3, sort: 'createdAt' }),
        mine,
        'created in name order',
      );
      assert.deepEqual(await all(services, alice, { limit: 7, sort: '-createdAt' }), [...mine].reverse());

      const first = await services.applications.list(alice, query({ limit: 2 }));
      assert.deepEqual(
        first.items.map((a) => [a.name, a.callerRole]),
        [
          ['app-00', 'owner'],
          ['app-01', 'guest'],
        ],
      );
      // Search: name or description, case-insensitive, plain text (no pattern characters).
      assert.deepEqual(await all(services, alice, { q: 'payment' }), []);
      assert.deepEqual(await all(services, bob, { q: 'PAYMENT' }), ['app-07']);
      assert.deepEqual(await all(services, alice, { q: 'app-1' }), [
        'app-10',
        'app-12',
        'app-14',
        'app-16',
        'app-18',
      ]);
      assert.deepEqual(await all(services, alice, { q: '%' }), []);
      assert.deepEqual(await all(services, alice, { q: "' or '1'='1" }), []);

      // scope=all: admins see everything, with their own role (none here).
      assert.equal((await all(services, admin, { scope: 'all', limit: 10 })).length, 23);
      await assert.rejects(services.applications.list(alice, query({ scope: 'all' })), NotAllowedError);

      // A cursor belongs to its sort.
      await assert.rejects(
        services.applications.list(alice, query({ sort: '-name', cursor: first.nextCursor ?? '' })),
        InputError,
      );
      await assert.rejects(services.applications.list(alice, query({ cursor: 'bm90LWpzb24' })), InputError);
    } finally {
      await db.close();
    }
  });
}
