import type { OperationStep } from '@leengine/common';

export type StepName = 'create' | 'ready' | 'routable' | 'drain' | 'retire' | 'select' | 'scale' | 'rollback';

function step(name: StepName, title: string, skipped = false): OperationStep {
  return {
    name,
    title,
    state: skipped ? 'skipped' : 'pending',
    progress: null,
    message: '',
    startedAt: null,
    finishedAt: null,
  };
}

/**
 * A deploy or rollback is a gray upgrade: the new version runs beside the old ones,
 * becomes Ready and routable, then the old ones leave the load balancer (confirmed)
 * and only then are scaled down and deleted.
 */
export function upgradeSteps(version: string, replaced: string[]): OperationStep[] {
  const old = replaced.join(', ');
  const none = replaced.length === 0;
  return [
    step('create', `Create ${version} in every cell`),
    step('ready', `Wait until every instance of ${version} is Ready`),
    step('routable', `Wait until ${version} is in the load balancer`),
    step(
      'drain',
      none ? 'Take the old version out of the load balancer' : `Take ${old} out of the load balancer`,
      none,
    ),
    step('retire', none ? 'Scale down and delete the old version' : `Scale down and delete ${old}`, none),
  ];
}

/** Scaling down picks the instances that stop and drains them first; scaling up waits until the new ones serve. */
export function scaleSteps(version: string, shrinks: boolean): OperationStep[] {
  return [
    step('select', `Choose the instances of ${version} that stop`, !shrinks),
    step('drain', 'Take them out of the load balancer', !shrinks),
    step('scale', `Set the instances of ${version}`),
    step('ready', `Wait until ${version} has its instances, all Ready`),
    step('routable', `Wait until ${version}'s instances are in the load balancer`),
  ];
}

/** Appended when a deploy or rollback fails or is aborted. */
export function rollbackStep(version: string, replaced: string[]): OperationStep {
  const keep = replaced.length > 0 ? `; ${replaced.join(', ')} keeps serving` : '';
  return step('rollback', `Remove ${version}${keep}`);
}

/**
 * Steps before the old version leaves the load balancer: failing or aborting there rolls
 * back. A `drain` that passes the deadline fails without a rollback (the new version is
 * routable by then) and releases the drain, so the old version keeps serving beside it.
 */
export const REVERSIBLE: ReadonlySet<string> = new Set(['create', 'ready', 'routable', 'select']);
