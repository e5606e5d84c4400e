import { NotAllowedError, NotFoundError } from '@leengine/common';
import {
  type AgentStatus,
  type DomainConfig,
  DomainConfigSchema,
  type DomainSettingsInput,
  renderDomain,
  type SlbGroup,
  type SlbStore,
  type SpecialSettings,
  type Upstream,
} from '@leengine/slb';
import type { Logger } from 'pino';
import { authorize } from '../access/authorize.ts';
import { findResource, notFound, type ResourceRef } from '../access/resourceRef.ts';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import type { Database, Queryable } from '../db/database.ts';

export interface SlbServiceDeps {
  db: Database;
  activity: ActivityService;
  /** slb-core's store: the SLB's system of record is its etcd prefix. */
  store: SlbStore;
  logger: Logger;
}

/** A domain as the API shows it: its config, backends, and what the group's agents report. */
export interface DomainView extends DomainConfig {
  upstreams: Upstream[];
  /** Per agent of the group: whether it serves this config revision, and its error for it. */
  agents: { host: string; applied: boolean; error: string | null }[];
}

export type BindDomainInput = DomainSettingsInput & {
  domain: string;
  group: string;
  special?: SpecialSettings;
};
export type UpdateDomainInput = DomainSettingsInput & { special?: SpecialSettings };

/** How the agents' defaults render a domain; what users read as "their nginx config". */
const DEFAULT_LISTEN = { http: ['0.0.0.0:80'], https: ['0.0.0.0:443'], certDir: '/etc/leengine/slb/certs' };

/**
 * slb-core: SLB groups (admins) and the domains of applications (the application's
 * Masters and Owners, through the permission table's `manage-domains`), kept in etcd
 * for the slb-agents. Special settings are admins' only. Every change of a domain is
 * recorded in the application's activity.
 */
export class SlbService {
  readonly #db: Database;
  readonly #activity: ActivityService;
  readonly #store: SlbStore;
  readonly #logger: Logger;

  private constructor(deps: SlbServiceDeps) {
    this.#db = deps.db;
    this.#activity = deps.activity;
    this.#store = deps.store;
    this.#logger = deps.logger;
  }

  static create(deps: SlbServiceDeps): SlbService {
    return new SlbService(deps);
  }

  /** Every group: users pick one when they bind a domain. */
  listGroups(_caller: Caller): Promise<SlbGroup[]> {
    return this.#store.listGroups();
  }

  async putGroup(caller: Caller, group: SlbGroup): Promise<SlbGroup> {
    assertAdmin(caller, 'manage SLB groups');
    await this.#store.putGroup(group);
    this.#logger.info({ group: group.name, actor: caller.username }, 'SLB group saved');
    return group;
  }

  async deleteGroup(caller: Caller, name: string): Promise<void> {
    assertAdmin(caller, 'manage SLB groups');
    if (!(await this.#store.getGroup(name))) throw new NotFoundError(`SLB group "${name}" not found`);
    await this.#store.deleteGroup(name);
    this.#logger.info({ group: name, actor: caller.username }, 'SLB group deleted');
  }

  /** What each agent of a group reports (admins: hosts and errors of every domain). */
  async agents(caller: Caller, group: string): Promise<AgentStatus[]> {
    assertAdmin(caller, "read SLB agents' reports");
    if (!(await this.#store.getGroup(group))) throw new NotFoundError(`SLB group "${group}" not found`);
    return this.#store.agents(group);
  }

  async listDomains(caller: Caller, application: string): Promise<DomainConfig[]> {
    await this.#authorized(this.#db, caller, application, 'read');
    const groups = await this.#store.listGroups();
    const all = await Promise.all(groups.map((g) => this.#store.listDomains(g.name)));
    return all.flat().filter((d) => d.application === application);
  }

  async getDomain(caller: Caller, application: string, domain: string): Promise<DomainView> {
    await this.#authorized(this.#db, caller, application, 'read');
    const { config, revision } = await this.#domainOf(application, domain);
    const [upstreams, agents] = await Promise.all([
      this.#store.getUpstreams(config.group, domain),
      this.#store.agents(config.group),
    ]);
    return {
      ...config,
      upstreams: upstreams?.value ?? [],
      agents: agents.map((a) => ({
        host: a.host,
        applied: a.revision >= revision && a.domainErrors[domain] === undefined,
        error: a.domainErrors[domain] ?? a.error,
      })),
    };
  }

  /** The domain's nginx server block as the agents render it (with their default listen settings). */
  async renderedConfig(caller: Caller, application: string, domain: string): Promise<string> {
    await this.#authorized(this.#db, caller, application, 'read');
    return renderDomain((await this.#domainOf(application, domain)).config, DEFAULT_LISTEN);
  }

  async bindDomain(caller: Caller, application: string, input: BindDomainInput): Promise<DomainConfig> {
    if (input.special && Object.keys(input.special).length > 0) assertAdmin(caller, 'set special settings');
    return this.#activity.change(caller, 'bind-domain', input, async (tx, setTarget) => {
      const ref = await this.#authorized(tx, caller, application, 'manage-domains');
      setTarget(ref);
      const config = DomainConfigSchema.parse({ ...input, application, special: input.special ?? {} });
      await this.#store.createDomain(config);
      return config;
    });
  }

  async updateDomain(
    caller: Caller,
    application: string,
    domain: string,
    input: UpdateDomainInput,
  ): Promise<DomainConfig> {
    return this.#activity.change(caller, 'update-domain', { domain, ...input }, async (tx, setTarget) => {
      const ref = await this.#authorized(tx, caller, application, 'manage-domains');
      setTarget(ref);
      const { config: current, revision } = await this.#domainOf(application, domain);
      const special = input.special ?? current.special;
      if (JSON.stringify(special) !== JSON.stringify(current.special))
        assertAdmin(caller, 'change special settings');
      const next = DomainConfigSchema.parse({
        ...input,
        domain,
        group: current.group,
        application,
        special,
      });
      await this.#store.updateDomain(next, revision);
      return next;
    });
  }

  async unbindDomain(caller: Caller, application: string, domain: string): Promise<void> {
    await this.#activity.change(caller, 'unbind-domain', { domain }, async (tx, setTarget) => {
      const ref = await this.#authorized(tx, caller, application, 'manage-domains');
      setTarget(ref);
      const { config } = await this.#domainOf(application, domain);
      await this.#store.deleteDomain(config.group, domain);
    });
  }

  async #authorized(q: Queryable, caller: Caller, application: string, action: string): Promise<ResourceRef> {
    const ref = await findResource(q, 'application', application);
    if (!ref) throw notFound('application', application);
    await authorize(q, caller, ref, action);
    return ref;
  }

  /** The domain's config when it belongs to the application (else: not found). */
  async #domainOf(application: string, domain: string): Promise<{ config: DomainConfig; revision: number }> {
    const missing = new NotFoundError(`domain "${domain}" not found on application "${application}"`);
    const group = await this.#store.groupOf(domain);
    if (!group) throw missing;
    const found = await this.#store.getDomain(group, domain);
    if (!found || found.value.application !== application) throw missing;
    return { config: found.value, revision: found.modRevision };
  }
}

function assertAdmin(caller: Caller, what: string): void {
  if (!caller.admin) throw new NotAllowedError(`only admins may ${what}`);
}
