/**
 * What services tell the runtime after they commit a change: the runtime then drives
 * the cells from the database. Signals are hints (the runtime also resyncs on its own),
 * so a lost one delays convergence but never breaks it.
 */
export interface RuntimeSignals {
  /** The application's desired state changed; `cells` names where it ran when it no longer runs there. */
  applicationChanged(name: string, cells?: string[]): void;
  /** An operation was created or changed (abort). */
  operationChanged(id: number): void;
  /** Cells were registered, changed or removed. */
  cellsChanged(): void;
}

/** Signals that go nowhere: services used without a runtime (store tests). */
export const noSignals: RuntimeSignals = {
  applicationChanged: () => {},
  operationChanged: () => {},
  cellsChanged: () => {},
};
