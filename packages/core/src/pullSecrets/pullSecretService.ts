import { type PullSecretRotation, UnavailableError } from '@leengine/common';
import type { Logger } from 'pino';
import type { ActivityService } from '../activity/activityService.ts';
import { loadApplication } from '../applications/loadApplication.ts';
import { placementsOf } from '../applications/placementStore.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import type { SecretBox } from '../crypto/secretBox.ts';
import type { RuntimeSignals } from '../runtime/signals.ts';
import { rotatePullCredential } from './pullCredentials.ts';

export interface PullSecretServiceDeps {
  clock: Clock;
  activity: ActivityService;
  logger: Logger;
  /** Without it (no `LEENGINE_SECRET_KEY`) or without a registry there are no pull secrets. */
  box: SecretBox | undefined;
  registryConfigured: boolean;
  signals: RuntimeSignals;
}

/** An application's pull secret: its rotation (the cell reconciler keeps the cells' copies). */
export class PullSecretService {
  readonly #deps: PullSecretServiceDeps;

  private constructor(deps: PullSecretServiceDeps) {
    this.#deps = deps;
  }

  static create(deps: PullSecretServiceDeps): PullSecretService {
    return new PullSecretService(deps);
  }

  /**
   * Gives the application's pull credential a new secret (role `update`): the old one gets
   * no token from the commit on; every cell's `leengine-pull` is rewritten by the cell
   * reconciler, signalled at once. Running pods are not touched (they pulled already).
   */
  async rotate(caller: Caller, application: string): Promise<PullSecretRotation> {
    const { box, clock } = this.#deps;
    const result = await this.#deps.activity.change(
      caller,
      'rotate-pull-secret',
      {},
      async (tx, setTarget) => {
        const { row } = await loadApplication(tx, caller, application, 'update', setTarget);
        if (!box || !this.#deps.registryConfigured)
          throw new UnavailableError(
            'pull secrets need a registry (REGISTRY_URL) and LEENGINE_SECRET_KEY; this core has none',
          );
        const at = clock();
        const { username } = await rotatePullCredential(tx, box, { id: row.id, name: row.name }, at);
        const cells = (await placementsOf(tx, row.id)).map((p) => p.cell);
        return { application: row.name, username, rotatedAt: at.toISOString(), cells };
      },
    );
    this.#deps.logger.info({ application, cells: result.cells }, 'pull secret rotated');
    this.#deps.signals.applicationChanged(application);
    return result;
  }
}
