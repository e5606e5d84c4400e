import { type ReactNode, useState } from 'react';
import { Dialog } from './Dialog.tsx';

interface Pending {
  title: string;
  description: ReactNode;
  confirmLabel: string;
  action: () => Promise<unknown>;
}

/**
 * Destructive actions go through here: `ask(...)` opens an alertdialog whose Cancel has
 * the focus (Enter on an accidental open does nothing harmful); the action runs on
 * confirm, with its error shown in the dialog. Render `element` once in the page.
 */
export function useConfirm(onDone?: () => void) {
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const ask = (p: Pending) => {
    setError(undefined);
    setPending(p);
  };
  const close = () => {
    if (!busy) setPending(null);
  };
  const run = async () => {
    if (!pending) return;
    setBusy(true);
    setError(undefined);
    try {
      await pending.action();
      setPending(null);
      onDone?.();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const element = pending ? (
    <Dialog title={pending.title} description={pending.description} alert onClose={close}>
      {error ? (
        <p className="error banner" role="alert">
          {error}
        </p>
      ) : null}
      <div className="dialog-buttons">
        <button type="button" className="secondary" data-autofocus onClick={close} disabled={busy}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={() => void run()} disabled={busy}>
          {busy ? 'Working…' : pending.confirmLabel}
        </button>
      </div>
    </Dialog>
  ) : null;

  return { ask, element };
}
