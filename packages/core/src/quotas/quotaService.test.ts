import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuotaExceededError } from '@leengine/common';
import { useTestbed } from '@leengine/testbed';
import { backends, callerIn, servicesOn } from '../testing/backends.ts';

const testbed = useTestbed();

for (const backend of backends(testbed)) {
  test(`${backend.name}: check() allows growth within the limits and names every limit it would cross`, async () => {
    const db = await backend.open();
    try {
      const services = servicesOn(db);
      const admin = await callerIn(db, 'root', true);
      const alice = await callerIn(db, 'alice');
      await services.quotas.setDefaults(admin, {
        applications: 2,
        instances: 10,
        cpuMillicores: 4000,
        memoryMib: 8192,
      });
      await services.applications.create(alice, { name: 'web', description: '' });
      // What deploy/scale will keep up to date: the application's allocation.
      await db.query('update applications set instances = 8, cpu_millicores = 3000, memory_mib = 4096');

      await db.transaction((tx) =>
        services.quotas.check(tx, alice.userId, { instances: 2, memoryMib: 4096 }),
      );
      await assert.rejects(
        db.transaction((tx) =>
          services.quotas.check(tx, alice.userId, { applications: 1, instances: 3, cpuMillicores: 1001 }),
        ),
        (error: unknown) => {
          assert.ok(error instanceof QuotaExceededError);
          assert.match(error.message, /instances 8 \+ 3 > 10/);
          assert.match(error.message, /cpuMillicores 3000 \+ 1001 > 4000/);
          assert.doesNotMatch(error.message, /applications/, 'applications 1 + 1 <= 2 is fine');
          return true;
        },
      );
      // Shrinking is always allowed, also when a lowered limit is already exceeded.
      await services.quotas.setDefaults(admin, {
        applications: 0,
        instances: 1,
        cpuMillicores: 1,
        memoryMib: 1,
      });
      await db.transaction((tx) => services.quotas.check(tx, alice.userId, { instances: -4, memoryMib: -1 }));
    } finally {
      await db.close();
    }
  });

  test(`${backend.name}: a user's override replaces the default; null returns to it`, async () => {
    const db = await backend.open();
    try {
      const services = servicesOn(db);
      const admin = await callerIn(db, 'root', true);
      await callerIn(db, 'bob');
      const defaults = await services.quotas.defaults();
      assert.deepEqual(defaults, { applications: 10, instances: 40, cpuMillicores: 20000, memoryMib: 40960 });
      const raised = await services.quotas.setOverrides(admin, 'bob', { applications: 50, memoryMib: 100 });
      assert.deepEqual(raised.limits, { ...defaults, applications: 50, memoryMib: 100 });
      assert.deepEqual(raised.overrides, {
        applications: 50,
        instances: null,
        cpuMillicores: null,
        memoryMib: 100,
      });
      const back = await services.quotas.setOverrides(admin, 'bob', { applications: null });
      assert.deepEqual(back.limits, { ...defaults, memoryMib: 100 }, 'fields not given stay');
      assert.deepEqual(back.usage, { applications: 0, instances: 0, cpuMillicores: 0, memoryMib: 0 });
    } finally {
      await db.close();
    }
  });

  test(`${backend.name}: concurrent application creations by one user stop exactly at the quota`, async () => {
    const db = await backend.open();
    try {
      const services = servicesOn(db);
      const admin = await callerIn(db, 'root', true);
      const carol = await callerIn(db, 'carol');
      await services.quotas.setOverrides(admin, 'carol', { applications: 3 });
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          services.applications.create(carol, { name: `app-${i}`, description: '' }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(r.reason instanceof QuotaExceededError, String(r.reason));
      }
      const [row] = await db.query<{ n: number }>('select count(*)::int as n from applications');
      assert.equal(row?.n, 3);
    } finally {
      await db.close();
    }
  });
}
