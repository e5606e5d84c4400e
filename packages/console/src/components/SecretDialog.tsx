import { Fragment, useState } from 'react';
import { Dialog } from './Dialog.tsx';

/**
 * A secret the API answers once (robot secret, access token, webhook secret): shown in a
 * dialog with a copy button and the warning that it is never shown again. The secret
 * lives only in this dialog's props; closing it drops it.
 */
export function SecretDialog(props: {
  title: string;
  label: string;
  secret: string;
  details?: { label: string; value: string }[];
  onClose: () => void;
}) {
  const [copied, setCopied] = useState<'yes' | 'failed' | undefined>();
  return (
    <Dialog
      title={props.title}
      description={<p>Copy it now: it will not be shown again. LeEngine keeps only its hash.</p>}
      onClose={props.onClose}
    >
      {props.details?.length ? (
        <dl className="facts">
          {props.details.map((d) => (
            <Fragment key={d.label}>
              <dt>{d.label}</dt>
              <dd>
                <code data-detail={d.label}>{d.value}</code>
              </dd>
            </Fragment>
          ))}
        </dl>
      ) : null}
      <div className="copy-command">
        <label className="field-label" htmlFor="once-secret">
          {props.label}
        </label>
        <input id="once-secret" className="secret" readOnly value={props.secret} data-secret />
        <button
          type="button"
          className="secondary"
          aria-label={`copy ${props.label}`}
          onClick={() =>
            void navigator.clipboard?.writeText(props.secret).then(
              () => setCopied('yes'),
              () => setCopied('failed'),
            )
          }
        >
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </div>
      {copied === 'failed' ? (
        <p className="error" role="alert">
          The browser refused the clipboard: select the secret and copy it by hand.
        </p>
      ) : null}
      <div className="dialog-buttons">
        <button type="button" data-autofocus onClick={props.onClose}>
          I have copied it
        </button>
      </div>
    </Dialog>
  );
}
