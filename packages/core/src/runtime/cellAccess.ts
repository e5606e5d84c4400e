import type { CellHealthState } from '@leengine/common';
import type { CellClient } from '@leengine/kube';

/** Live access to the registered cells, for services that read from them (capacity, containers, logs). */
export interface CellAccess {
  /** The cell's client, when it is registered and its kubeconfig opened. */
  client(cell: string): CellClient | undefined;
  health(cell: string): { state: CellHealthState; message: string };
}
