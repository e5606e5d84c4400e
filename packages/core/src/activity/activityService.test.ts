import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConflictError, NotFoundError } from '@leengine/common';
import { useTestbed } from '@leengine/testbed';
import { backends, callerIn, servicesOn } from '../testing/backends.ts';

const testbed = useTestbed();

for (const backend of backends(testbed)) {
  test(`${backend.name}: a change and its activity record commit together or not at all`, async () => {
    const db = await backend.open();
    try {
      const { activity } = servicesOn(db);
      const alice = await callerIn(db, 'alice');
      const count = async (table: string) =>
        (await db.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0]?.n;

      await activity.change(alice, 'create', { name: 'kept' }, async (tx, setTarget) => {
        await tx.query(
          `insert into image_groups (name, created_by, created_at, updated_at) values ('kept', $1, now(), now())`,
          [alice.userId],
        );
        setTarget({ kind: 'image-group', id: 1, name: 'kept' });
      });
      assert.equal(await count('image_groups'), 1);
      assert.equal(await count('activity'), 1);

      // The change fails after its write: the write and the record both roll back.
      await assert.rejects(
        activity.change(alice, 'create', { name: 'lost' }, async (tx, setTarget) => {
          await tx.query(
            `insert into image_groups (name, created_by, created_at, updated_at) values ('lost', $1, now(), now())`,
            [alice.userId],
          );
          setTarget({ kind: 'image-group', id: null, name: 'lost' });
          throw new Error('crash in the middle');
        }),
        /crash in the middle/,
      );
      assert.equal(await count('image_groups'), 1);
      assert.equal(await count('activity'), 1, 'an internal failure leaves no record');

      // A refused change (conflict) is kept as a failed record, outside the rolled-back transaction.
      await assert.rejects(
        activity.change(alice, 'update', { description: 'x' }, async (tx, setTarget) => {
          await tx.query(`update image_groups set description = 'x'`);
          setTarget({ kind: 'image-group', id: 1, name: 'kept' });
          throw new ConflictError('no');
        }),
        ConflictError,
      );
      const [failed] = await db.query<{ result: string; error: string; action: string }>(
        'select result, error, action from activity order by id desc limit 1',
      );
      assert.deepEqual(failed, { result: 'failed', error: 'conflict', action: 'update' });
      assert.equal((await db.query<{ d: string }>('select description as d from image_groups'))[0]?.d, '');

      // "Not found" is not recorded: it would tell who probed what.
      await assert.rejects(
        activity.change(alice, 'delete', {}, async (_tx, setTarget) => {
          setTarget({ kind: 'image-group', id: 1, name: 'kept' });
          throw new NotFoundError('gone');
        }),
        NotFoundError,
      );
      assert.equal(await count('activity'), 2);
    } finally {
      await db.close();
    }
  });

  test(`${backend.name}: secrets never reach the record, at any depth`, async () => {
    const db = await backend.open();
    try {
      const { activity } = servicesOn(db);
      const alice = await callerIn(db, 'alice');
      await activity.change(
        alice,
        'create',
        {
          username: 'bob',
          password: 'hunter2hunter2',
          nested: { apiToken: 't', list: [{ secret: 's', ok: 1 }] },
        },
        async (_tx, setTarget) => setTarget({ kind: 'user', id: alice.userId, name: 'bob' }),
      );
      const [row] = await db.query<{ params: unknown }>('select params from activity');
      assert.deepEqual(row?.params, {
        username: 'bob',
        password: '***',
        nested: { apiToken: '***', list: [{ secret: '***', ok: 1 }] },
      });
      const raw = await db.query<{ t: string }>('select params::text as t from activity');
      assert.ok(!raw[0]?.t.includes('hunter2'));
    } finally {
      await db.close();
    }
  });
}
