import type { CellHealthState } from '@leengine/common';
import { CellClient, type CoreV1Event, ResourceWatch, type V1Deployment, type V1Pod } from '@leengine/kube';
import type { Logger } from 'pino';
import { listCells, writeCellHealth } from '../cells/cellStore.ts';
import type { Clock } from '../clock.ts';
import type { SecretBox } from '../crypto/secretBox.ts';
import type { Database } from '../db/database.ts';

/** The context a cell's kubeconfig is sealed for. */
export function kubeconfigContext(cell: string): string {
  return `cell:${cell}`;
}

export interface CellConnectionsDeps {
  db: Database;
  box: SecretBox | undefined;
  clock: Clock;
  logger: Logger;
  /** A Deployment or pod LeEngine manages changed in `namespace` (the application) of `cell`. */
  onDeployment(cell: string, namespace: string): void;
  /** A Kubernetes event was recorded or updated in `cell`. */
  onEvent(cell: string, event: CoreV1Event): void;
  /** The cell answers again after being unreachable (or for the first time). */
  onHealthy(cell: string): void;
  /** Default 5 s. */
  healthIntervalMs?: number;
}

interface Connection {
  cell: string;
  sealed: string;
  client: CellClient;
  watches: ResourceWatch<V1Deployment | V1Pod | CoreV1Event>[];
  health: CellHealthState;
  message: string;
}

/**
 * One client per registered cell (from its decrypted kubeconfig), with a watch on the
 * Deployments LeEngine manages and on events, and a health check. `refresh()` picks up
 * cells added, changed or removed in the database.
 */
export class CellConnections {
  readonly #deps: CellConnectionsDeps;
  readonly #connections = new Map<string, Connection>();
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;
  #refreshing: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(deps: CellConnectionsDeps) {
    this.#deps = deps;
  }

  /** The client of a cell, if it is registered and its kubeconfig could be opened. */
  client(cell: string): CellClient | undefined {
    return this.#connections.get(cell)?.client;
  }

  /** Health as last checked. */
  health(cell: string): { state: CellHealthState; message: string } {
    const c = this.#connections.get(cell);
    return c ? { state: c.health, message: c.message } : { state: 'unknown', message: 'not connected' };
  }

  names(): string[] {
    return [...this.#connections.keys()];
  }

  async start(): Promise<void> {
    await this.refresh();
    const interval = this.#deps.healthIntervalMs ?? 5000;
    this.#timer = setInterval(() => {
      this.#checking ??= this.checkHealth().finally(() => {
        this.#checking = undefined;
      });
    }, interval);
    this.#timer.unref();
    void this.checkHealth();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#refreshing;
    await this.#checking;
    await Promise.all([...this.#connections.values()].map((c) => this.#close(c)));
    this.#connections.clear();
  }

  /** Re-reads the cells: connects new ones, reconnects changed kubeconfigs, drops removed ones. */
  refresh(): Promise<void> {
    this.#refreshing = this.#refreshing
      .then(() => this.#refresh())
      .catch((error: unknown) => {
        this.#deps.logger.error({ err: error }, 'could not refresh cell connections');
      });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    if (this.#stopped) return;
    const rows = await listCells(this.#deps.db);
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.name);
      const current = this.#connections.get(row.name);
      if (current?.sealed === row.kubeconfigSealed) continue;
      if (current) await this.#close(current);
      this.#connections.delete(row.name);
      if (!this.#deps.box) {
        this.#deps.logger.error(
          { cell: row.name },
          'LEENGINE_SECRET_KEY is not set: cannot open the kubeconfig',
        );
        continue;
      }
      let client: CellClient;
      try {
        client = CellClient.fromKubeconfig(
          row.name,
          this.#deps.box.open(row.kubeconfigSealed, kubeconfigContext(row.name)),
        );
      } catch (error) {
        this.#deps.logger.error({ cell: row.name, err: error }, 'cannot open the cell kubeconfig');
        continue;
      }
      this.#connections.set(row.name, this.#connect(row.name, row.kubeconfigSealed, client));
    }
    for (const [name, connection] of this.#connections) {
      if (!seen.has(name)) {
        this.#connections.delete(name);
        await this.#close(connection);
      }
    }
  }

  #connect(cell: string, sealed: string, client: CellClient): Connection {
    const logger = this.#deps.logger.child({ cell });
    const connection: Connection = { cell, sealed, client, watches: [], health: 'unknown', message: '' };
    const deployments = new ResourceWatch<V1Deployment>({
      name: `${cell}/deployments`,
      source: client.deploymentSource(),
      onEvent: (_type, d) => {
        const namespace = d.metadata?.namespace;
        if (namespace) this.#deps.onDeployment(cell, namespace);
      },
      onError: (error) => this.#markUnreachable(connection, error),
      logger,
    });
    // Pods too: readiness shows in the Deployment's status, but a pod that finished
    // terminating does not, and a retired version is deleted only once its pods are gone.
    const pods = new ResourceWatch<V1Pod>({
      name: `${cell}/pods`,
      source: client.podSource(),
      onEvent: (type, pod) => {
        const namespace = pod.metadata?.namespace;
        if (namespace && type !== 'SYNC') this.#deps.onDeployment(cell, namespace);
      },
      logger,
    });
    const events = new ResourceWatch<CoreV1Event>({
      name: `${cell}/events`,
      source: client.eventSource(),
      onEvent: (type, e) => {
        if (type !== 'DELETED') this.#deps.onEvent(cell, e);
      },
      logger,
    });
    connection.watches = [deployments, pods, events] as ResourceWatch<V1Deployment | V1Pod | CoreV1Event>[];
    for (const w of connection.watches) w.start();
    return connection;
  }

  async #close(connection: Connection): Promise<void> {
    await Promise.all(connection.watches.map((w) => w.stop()));
  }

  /** Pings every cell once and records changes of health. */
  async checkHealth(): Promise<void> {
    await Promise.all(
      [...this.#connections.values()].map(async (connection) => {
        try {
          const version = await connection.client.ping();
          await this.#setHealth(connection, 'healthy', version);
        } catch (error) {
          await this.#markUnreachable(connection, error);
        }
      }),
    );
  }

  async #markUnreachable(connection: Connection, error: unknown): Promise<void> {
    await this.#setHealth(connection, 'unreachable', error instanceof Error ? error.message : String(error));
  }

  async #setHealth(connection: Connection, state: CellHealthState, message: string): Promise<void> {
    if (this.#stopped) return;
    const changed = connection.health !== state;
    connection.health = state;
    connection.message = message;
    if (!changed) return;
    this.#deps.logger.info({ cell: connection.cell, health: state, message }, 'cell health changed');
    await writeCellHealth(this.#deps.db, connection.cell, { state, message, at: this.#deps.clock() }).catch(
      (err: unknown) =>
        this.#deps.logger.error({ err, cell: connection.cell }, 'could not record cell health'),
    );
    if (state === 'healthy') this.#deps.onHealthy(connection.cell);
  }
}
