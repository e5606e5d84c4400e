import {
  type AgentStatus,
  AgentStatusSchema,
  ConflictError,
  type DomainConfig,
  DomainConfigSchema,
  NotFoundError,
  type SlbGroup,
  SlbGroupSchema,
  UnavailableError,
  type Upstream,
  UpstreamsSchema,
} from '@leengine/common';
import type { Etcd3 } from 'etcd3';
import { parseSlbKey, SLB_ROOT, slbKeys } from './keys.ts';

/** A value read with the revision that last changed it. */
export interface Versioned<T> {
  value: T;
  modRevision: number;
}

/**
 * slb-core's view of etcd: groups, domain configs, upstreams and agent reports, each
 * validated on the way in and out. The system of record for the SLB is this prefix.
 */
export class SlbStore {
  readonly client: Etcd3;

  private constructor(client: Etcd3) {
    this.client = client;
  }

  static create(deps: { client: Etcd3 }): SlbStore {
    return new SlbStore(deps.client);
  }

  async putGroup(group: SlbGroup): Promise<number> {
    const value = SlbGroupSchema.parse(group);
    const response = await this.#etcd(() =>
      this.client.put(slbKeys.meta(value.name)).value(JSON.stringify(value)).exec(),
    );
    return Number(response.header.revision);
  }

  async getGroup(name: string): Promise<SlbGroup | undefined> {
    const raw = await this.#etcd(() => this.client.get(slbKeys.meta(name)).string());
    return raw === null ? undefined : SlbGroupSchema.parse(JSON.parse(raw));
  }

  async listGroups(): Promise<SlbGroup[]> {
    const keys = await this.#etcd(() => this.client.getAll().prefix(SLB_ROOT).keys());
    const names = keys.flatMap((k) => {
      const parsed = parseSlbKey(k);
      return parsed?.kind === 'meta' ? [parsed.group] : [];
    });
    const groups = await Promise.all(names.map((n) => this.getGroup(n)));
    return groups.filter((g): g is SlbGroup => g !== undefined);
  }

  /** Deletes a group that holds no domain. */
  async deleteGroup(name: string): Promise<void> {
    const domains = await this.#etcd(() => this.client.getAll().prefix(slbKeys.domains(name)).keys());
    if (domains.length > 0) throw new ConflictError(`SLB group ${name} still holds domains`);
    await this.#etcd(() => this.client.delete().key(slbKeys.meta(name)).exec());
  }

  /**
   * Creates a domain: one domain name belongs to one group (a claim key, created in the
   * same transaction), and the group must exist.
   */
  async createDomain(config: DomainConfig): Promise<number> {
    const value = DomainConfigSchema.parse(config);
    const result = await this.#etcd(() =>
      this.client
        .if(slbKeys.claim(value.domain), 'Create', '==', 0)
        .and(slbKeys.meta(value.group), 'Create', '>', 0)
        .then(
          this.client.put(slbKeys.claim(value.domain)).value(value.group),
          this.client.put(slbKeys.config(value.group, value.domain)).value(JSON.stringify(value)),
        )
        .commit(),
    );
    if (!result.succeeded) {
      if (!(await this.getGroup(value.group))) throw new NotFoundError(`no SLB group ${value.group}`);
      throw new ConflictError(`domain ${value.domain} is already bound`);
    }
    return Number(result.header.revision);
  }

  /** Replaces an existing domain's config (the group and domain cannot change). */
  async updateDomain(config: DomainConfig, expectedRevision?: number): Promise<number> {
    const value = DomainConfigSchema.parse(config);
    const key = slbKeys.config(value.group, value.domain);
    const result = await this.#etcd(() =>
      this.client
        .if(
          key,
          expectedRevision === undefined ? 'Create' : 'Mod',
          expectedRevision === undefined ? '>' : '==',
          expectedRevision ?? 0,
        )
        .then(this.client.put(key).value(JSON.stringify(value)))
        .commit(),
    );
    if (!result.succeeded) {
      if (!(await this.getDomain(value.group, value.domain)))
        throw new NotFoundError(`no domain ${value.domain} in group ${value.group}`);
      throw new ConflictError(`domain ${value.domain} changed meanwhile; read it again`);
    }
    return Number(result.header.revision);
  }

  async getDomain(group: string, domain: string): Promise<Versioned<DomainConfig> | undefined> {
    const response = await this.#etcd(() => this.client.get(slbKeys.config(group, domain)).exec());
    const kv = response.kvs[0];
    if (!kv) return undefined;
    return {
      value: DomainConfigSchema.parse(JSON.parse(kv.value.toString())),
      modRevision: Number(kv.mod_revision),
    };
  }

  /** The group a domain belongs to, if it is bound. */
  async groupOf(domain: string): Promise<string | undefined> {
    const group = await this.#etcd(() => this.client.get(slbKeys.claim(domain)).string());
    return group ?? undefined;
  }

  async listDomains(group: string): Promise<DomainConfig[]> {
    const all = await this.#etcd(() => this.client.getAll().prefix(slbKeys.domains(group)).strings());
    return Object.entries(all)
      .filter(([key]) => parseSlbKey(key)?.kind === 'config')
      .map(([, raw]) => DomainConfigSchema.parse(JSON.parse(raw)));
  }

  async deleteDomain(group: string, domain: string): Promise<number> {
    const result = await this.#etcd(() =>
      this.client
        .if(slbKeys.config(group, domain), 'Create', '>', 0)
        .then(
          this.client.delete().prefix(slbKeys.domain(group, domain)),
          this.client.delete().key(slbKeys.claim(domain)),
        )
        .commit(),
    );
    if (!result.succeeded) throw new NotFoundError(`no domain ${domain} in group ${group}`);
    return Number(result.header.revision);
  }

  async getUpstreams(group: string, domain: string): Promise<Versioned<Upstream[]> | undefined> {
    const response = await this.#etcd(() => this.client.get(slbKeys.upstreams(group, domain)).exec());
    const kv = response.kvs[0];
    if (!kv) return undefined;
    return {
      value: UpstreamsSchema.parse(JSON.parse(kv.value.toString())),
      modRevision: Number(kv.mod_revision),
    };
  }

  /** Sets a domain's backends; returns the revision the agents must reach to serve them. */
  async putUpstreams(group: string, domain: string, upstreams: Upstream[]): Promise<number> {
    const value = UpstreamsSchema.parse(upstreams);
    const response = await this.#etcd(() =>
      this.client.put(slbKeys.upstreams(group, domain)).value(JSON.stringify(value)).exec(),
    );
    return Number(response.header.revision);
  }

  /** The live agents of a group and what they report. */
  async agents(group: string): Promise<AgentStatus[]> {
    const all = await this.#etcd(() => this.client.getAll().prefix(slbKeys.agents(group)).strings());
    return Object.values(all).flatMap((raw) => {
      const parsed = AgentStatusSchema.safeParse(JSON.parse(raw));
      return parsed.success ? [parsed.data] : [];
    });
  }

  /**
   * Which agents of the group have not applied `revision` yet: every host the group
   * declares must report it (a declared host without a live report is behind: its
   * nginx may still serve older upstreams); a group that declares no host counts its
   * live agents. Empty when all have.
   */
  async agentsBehind(group: string, revision: number): Promise<string[]> {
    const [meta, agents] = await Promise.all([this.getGroup(group), this.agents(group)]);
    const byHost = new Map(agents.map((a) => [a.host, a]));
    const expected = meta && meta.hosts.length > 0 ? meta.hosts : agents.map((a) => a.host);
    return expected.flatMap((host) => {
      const report = byHost.get(host);
      if (!report) return [`${host} (no live report)`];
      return report.revision < revision ? [`${host}@${report.revision}`] : [];
    });
  }

  /**
   * Waits until every agent of the group (see `agentsBehind`) has applied `revision` or
   * a later one. Rejects on timeout naming the agents still behind.
   */
  async waitForAgents(group: string, revision: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const watcher = await this.#etcd(() => this.client.watch().prefix(slbKeys.agents(group)).create());
    try {
      for (;;) {
        const changed = new Promise<void>((resolve) => {
          watcher.once('data', () => resolve());
        });
        const behind = await this.agentsBehind(group, revision);
        if (behind.length === 0) return;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new UnavailableError(
            `SLB group ${group}: ${behind.join(', ')} ha${behind.length === 1 ? 's' : 've'} not applied revision ${revision}`,
          );
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([changed, new Promise((r) => (timer = setTimeout(r, Math.min(left, 1000))))]);
        clearTimeout(timer);
      }
    } finally {
      await watcher.cancel();
    }
  }

  async #etcd<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ConflictError || error instanceof NotFoundError) throw error;
      throw new UnavailableError('etcd is not answering', { cause: error });
    }
  }
}
