import { ChangePasswordSchema, type CreatedToken, CreateTokenSchema, type Token } from '@leengine/common';
import { useState } from 'react';
import { api } from '../api.ts';
import { useConfirm } from '../components/Confirm.tsx';
import { Field } from '../components/Field.tsx';
import { FormSubmit } from '../components/FormSubmit.tsx';
import { NumberInput } from '../components/NumberInput.tsx';
import { Paged } from '../components/Paged.tsx';
import { SecretDialog } from '../components/SecretDialog.tsx';
import { Table } from '../components/Table.tsx';
import { useForm } from '../components/useForm.ts';
import { useSession } from '../session.tsx';

function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : 'never';
}

/** The signed-in user's settings: personal access tokens and their password. */
export function UserPage() {
  const { user } = useSession();
  return (
    <article>
      <h1>Your settings</h1>
      <p className="muted">
        Signed in as <b>{user?.username}</b>
        {user?.displayName ? ` (${user.displayName})` : ''}
      </p>
      <AccessTokens />
      <ChangePassword />
    </article>
  );
}

/** Tokens for the CLI, CI and scripts (`Authorization: Bearer lee_pat_...`): shown once, revoked at once. */
function AccessTokens() {
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((k) => k + 1);
  const confirm = useConfirm(reload);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const form = useForm(CreateTokenSchema, { name: undefined, expiresInDays: 30 });
  return (
    <section aria-labelledby="tokens-title">
      <h2 id="tokens-title">Personal access tokens</h2>
      <p className="muted">
        For the CLI, CI and scripts: <code>Authorization: Bearer lee_pat_…</code>. A token acts with all your
        rights until it expires or you revoke it.
      </p>
      <form
        className="inline"
        aria-label="new access token"
        noValidate
        onSubmit={form.submitNew(
          async (input) => setCreated(await api.post<CreatedToken>('/user/tokens', input)),
          reload,
        )}
      >
        <Field label="Token name" error={form.errors.name}>
          <input
            name="name"
            value={String(form.values.name ?? '')}
            onChange={(e) => form.set('name', e.target.value || undefined)}
          />
        </Field>
        <Field label="Expires in (days)" error={form.errors.expiresInDays} hint="1 to 366">
          <NumberInput form={form} name="expiresInDays" type="number" min={1} max={366} />
        </Field>
        <FormSubmit label="New token" form={form} />
      </form>
      <Paged<Token>
        path="/user/tokens"
        reloadKey={reloadKey}
        empty="No access tokens."
        render={(items) => (
          <Table
            className="tokens"
            headers={['Name', 'Created', 'Expires', 'Last used', { hidden: 'Revoke' }]}
            items={items}
            row={(t) => (
              <tr key={t.id} data-token={t.name}>
                <td>{t.name}</td>
                <td>{when(t.createdAt)}</td>
                <td>{when(t.expiresAt)}</td>
                <td>{when(t.lastUsedAt)}</td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    aria-label={`revoke token ${t.name}`}
                    onClick={() =>
                      confirm.ask({
                        title: `Revoke token ${t.name}?`,
                        description: 'It stops working at once: whatever uses it is refused (401).',
                        confirmLabel: 'Revoke token',
                        action: () => api.delete(`/user/tokens/${t.id}`),
                      })
                    }
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            )}
          />
        )}
      />
      {created ? (
        <SecretDialog
          title={`Token ${created.name} created`}
          label="access token"
          secret={created.token}
          details={[{ label: 'Expires', value: when(created.expiresAt) }]}
          onClose={() => setCreated(null)}
        />
      ) : null}
      {confirm.element}
    </section>
  );
}

/** Current and new password (the API's rules); the user's other sessions end. */
function ChangePassword() {
  const form = useForm(ChangePasswordSchema, { currentPassword: undefined, newPassword: undefined });
  const [repeat, setRepeat] = useState('');
  const [repeatError, setRepeatError] = useState<string | undefined>();
  const [done, setDone] = useState(false);
  return (
    <section aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form
        aria-label="change password"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setDone(false);
          const mismatch =
            repeat !== String(form.values.newPassword ?? '') ? 'does not match the new password' : undefined;
          setRepeatError(mismatch);
          if (mismatch) return;
          void form
            .submit((input) => api.put('/user/password', input))
            .then((ok) => {
              if (ok) {
                form.reset();
                setRepeat('');
              }
              setDone(ok);
            });
        }}
      >
        <Field label="Current password" error={form.errors.currentPassword}>
          <input
            type="password"
            name="currentPassword"
            autoComplete="current-password"
            value={String(form.values.currentPassword ?? '')}
            onChange={(e) => form.set('currentPassword', e.target.value || undefined)}
          />
        </Field>
        <Field label="New password" error={form.errors.newPassword} hint="at least 10 characters">
          <input
            type="password"
            name="newPassword"
            autoComplete="new-password"
            value={String(form.values.newPassword ?? '')}
            onChange={(e) => form.set('newPassword', e.target.value || undefined)}
          />
        </Field>
        <Field label="Repeat the new password" error={repeatError}>
          <input
            type="password"
            name="repeatPassword"
            autoComplete="new-password"
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
        </Field>
        <FormSubmit
          label="Change password"
          form={form}
          status={done ? 'Changed; your other sessions have ended.' : undefined}
        />
      </form>
    </section>
  );
}
