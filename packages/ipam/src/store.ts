import type { Etcd3 } from 'etcd3';
import type { z } from 'zod';
import { cellPrefix } from './keys.ts';
import type { Versioned } from './model.ts';

/**
 * The IPAM's view of etcd for one cell: JSON values validated on read, with the
 * revisions needed for compare-and-swap. Keys are given relative to the cell's prefix.
 */
export class IpamStore {
  readonly client: Etcd3;
  readonly cell: string;
  readonly prefix: string;

  private constructor(client: Etcd3, cell: string) {
    this.client = client;
    this.cell = cell;
    this.prefix = cellPrefix(cell);
  }

  static create(client: Etcd3, cell: string): IpamStore {
    return new IpamStore(client, cell);
  }

  /** Absolute key for a key relative to the cell. */
  key(relative: string): string {
    return this.prefix + relative;
  }

  async get<S extends z.ZodType>(relative: string, schema: S): Promise<Versioned<z.output<S>> | undefined> {
    const response = await this.client.get(this.key(relative)).exec();
    const kv = response.kvs[0];
    if (!kv) return undefined;
    return {
      key: relative,
      value: decode(relative, kv.value, schema),
      modRevision: kv.mod_revision,
      createRevision: kv.create_revision,
    };
  }

  /** All values under a relative prefix, in key order, and the revision they were read at. */
  async list<S extends z.ZodType>(
    relativePrefix: string,
    schema: S,
  ): Promise<{ items: Versioned<z.output<S>>[]; revision: string }> {
    const response = await this.client.getAll().prefix(this.key(relativePrefix)).exec();
    const items = response.kvs.map((kv) => {
      const relative = kv.key.toString().slice(this.prefix.length);
      return {
        key: relative,
        value: decode(relative, kv.value, schema),
        modRevision: kv.mod_revision,
        createRevision: kv.create_revision,
      };
    });
    return { items, revision: response.header.revision };
  }

  /** Relative keys under a relative prefix (values not fetched). */
  async listKeys(relativePrefix: string): Promise<string[]> {
    const found = await this.client.getAll().prefix(this.key(relativePrefix)).keys();
    return found.map((k) => k.slice(this.prefix.length));
  }

  /** Starts a transaction: `store.txn().if(...)` compares, then puts or deletes. */
  txn(): Txn {
    return new Txn(this);
  }
}

type Op = { put: string; value: string } | { del: string };

/** A compare-and-swap over relative keys. */
export class Txn {
  readonly #store: IpamStore;
  readonly #compares: [string, 'Create' | 'Mod', '==', string | number][] = [];
  readonly #ops: Op[] = [];

  constructor(store: IpamStore) {
    this.#store = store;
  }

  /** The key does not exist. */
  absent(relative: string): this {
    this.#compares.push([relative, 'Create', '==', 0]);
    return this;
  }

  /** The key still has this modification revision (it exists, unchanged since read). */
  unchanged(relative: string, modRevision: string): this {
    this.#compares.push([relative, 'Mod', '==', modRevision]);
    return this;
  }

  put(relative: string, value: unknown): this {
    this.#ops.push({ put: relative, value: JSON.stringify(value) });
    return this;
  }

  del(relative: string): this {
    this.#ops.push({ del: relative });
    return this;
  }

  /** Applies the transaction; the revision it was applied at (the new mod revision of every
   * key it put), or undefined when a comparison failed and nothing changed. */
  async commit(): Promise<string | undefined> {
    const store = this.#store;
    const { client } = store;
    const ops = this.#ops.map((op) =>
      'put' in op ? client.put(store.key(op.put)).value(op.value) : client.delete().key(store.key(op.del)),
    );
    const [first, ...rest] = this.#compares;
    if (!first) throw new Error('a transaction needs at least one comparison');
    let builder = client.if(store.key(first[0]), first[1], first[2], first[3]);
    for (const [key, target, cmp, value] of rest) builder = builder.and(store.key(key), target, cmp, value);
    const result = await builder.then(...ops).commit();
    return result.succeeded ? result.header.revision : undefined;
  }
}

function decode<S extends z.ZodType>(key: string, raw: Buffer, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch (error) {
    throw new Error(`etcd key ${key} does not hold JSON`, { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`etcd key ${key} holds an invalid value: ${parsed.error.message}`);
  return parsed.data;
}
