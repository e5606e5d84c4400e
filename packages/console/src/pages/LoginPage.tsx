import { LoginSchema } from '@leengine/common';
import { useNavigate } from 'react-router';
import { api } from '../api.ts';
import { Field, FormError } from '../components/Field.tsx';
import { useForm } from '../components/useForm.ts';
import { useSession } from '../session.tsx';

export function LoginPage() {
  const form = useForm(LoginSchema, { username: '', password: '' });
  const { refresh } = useSession();
  const navigate = useNavigate();
  return (
    <div className="login">
      <h1>LeEngine</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void form
            .submit((input) => api.post('/session', input))
            .then(async (ok) => {
              if (!ok) return;
              await refresh();
              navigate('/');
            });
        }}
      >
        <Field label="Username" error={form.errors.username}>
          <input
            name="username"
            autoComplete="username"
            value={String(form.values.username)}
            onChange={(e) => form.set('username', e.target.value)}
          />
        </Field>
        <Field label="Password" error={form.errors.password}>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={String(form.values.password)}
            onChange={(e) => form.set('password', e.target.value)}
          />
        </Field>
        <FormError error={form.formError} />
        <button type="submit" disabled={form.busy}>
          Sign in
        </button>
      </form>
    </div>
  );
}
