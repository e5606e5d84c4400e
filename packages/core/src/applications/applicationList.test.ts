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

  test(`${backend.name}: a list carries each application's creator, region and cells, as a single read does`, async () => {
    const db = await backend.open();
    try {
      const services = servicesOn(db);
      const alice = await callerIn(db, 'alice');
      for (const name of ['east-web', 'west-web', 'nowhere']) {
        await services.applications.create(alice, { name, description: '' });
      }
      // Placed in SQL: registering cells needs a sealing key and a reachable apiserver.
      await db.exec(`
        insert into regions (name, created_at, updated_at) values ('east', now(), now()), ('west', now(), now());
        insert into cells (region_id, name, kubeconfig_sealed, server, created_at, updated_at)
          select r.id, c.name, 'sealed', 'https://127.0.0.1:1', now(), now()
          from (values ('east', 'east-b'), ('east', 'east-a'), ('west', 'west-a')) c(region, name)
          join regions r on r.name = c.region;
        update applications a set region_id = r.id from regions r
          where r.name = split_part(a.name, '-', 1) and a.name like '%-web';
        insert into application_cells (application_id, cell_id, state, created_at)
          select a.id, c.id, case when c.name = 'east-b' then 'leaving' else 'active' end, now()
          from applications a join cells c on split_part(c.name, '-', 1) = split_part(a.name, '-', 1);
      `);
      const page = await services.applications.list(alice, query());
      assert.deepEqual(
        page.items.map((a) => [a.name, a.createdBy, a.region, a.cells]),
        [
          [
            'east-web',
            'alice',
            'east',
            [
              { name: 'east-a', state: 'active' },
              { name: 'east-b', state: 'leaving' },
            ],
          ],
          ['nowhere', 'alice', null, []],
          ['west-web', 'alice', 'west', [{ name: 'west-a', state: 'active' }]],
        ],
      );
      for (const item of page.items)
        assert.deepEqual(item, await services.applications.get(alice, item.name));
    } finally {
      await db.close();
    }
  });

  test(`${backend.name}: image group and build project lists carry the same fields as a single read`, async () => {
    const db = await backend.open();
    try {
      const services = servicesOn(db);
      const alice = await callerIn(db, 'alice');
      const bob = await callerIn(db, 'bob');
      for (const name of ['web', 'base']) await services.imageGroups.create(alice, { name, description: '' });
      await services.imageGroups.create(bob, { name: 'bobs', description: '' });
      await services.imageRepositories.create(alice, 'web', { name: 'site', description: '', public: false });
      await services.buildProjects.create(alice, {
        name: 'site',
        description: 'the site',
        gitUrl: 'https://git.example/site.git',
        branch: 'main',
        dockerfilePath: 'Dockerfile',
        imageRepository: 'web/site',
      });
      const groups = await services.imageGroups.list(alice, query());
      assert.deepEqual(
        groups.items.map((g) => g.name),
        ['base', 'web'],
      );
      for (const g of groups.items) assert.deepEqual(g, await services.imageGroups.get(alice, g.name));
      const projects = await services.buildProjects.list(alice, query());
      assert.deepEqual(
        projects.items.map((p) => [p.name, p.imageRepository, p.createdBy]),
        [['site', 'web/site', 'alice']],
      );
      assert.deepEqual(projects.items[0], await services.buildProjects.get(alice, 'site'));
      assert.deepEqual((await services.buildProjects.list(bob, query())).items, []);
    } finally {
      await db.close();
    }
  });
}
