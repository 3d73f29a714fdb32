import { useState, type FormEvent } from 'react';
import { PageHeading } from '../components/ui';
import { useI18n } from '../i18n/i18n';
import { navigate, useLocation } from '../router';
import { fetchDevToken, useSession } from '../session';

const DEMO_USERS = ['alice', 'bob', 'admin'];

/** Only a path of this storefront (never another site) is a place to come back to. */
export const safeNext = (next: string | null): string => (next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/sign-in') ? next : '/');

/** Development sign-in: pick a demo user (or type any name); the dev server mints the token. Comes back to ?next. */
export function SignInPage() {
  const { session, signIn, signOut } = useSession();
  const { t } = useI18n();
  const { query } = useLocation();
  const next = safeNext(query.get('next'));
  const expired = query.get('expired') === '1' && !session;
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const signInAs = async (user: string) => {
    setBusy(true);
    setError(null);
    try {
      signIn(await fetchDevToken(user));
      navigate(next, { replace: true });
    } catch (e) {
      setError(e instanceof Error && e.message ? e.message : t('signIn.unavailable'));
    } finally {
      setBusy(false);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) void signInAs(name.trim());
  };

  return (
    <section className="card narrow">
      <PageHeading>{t('signIn.title')}</PageHeading>
      {expired ? (
        <p role="alert" className="alert">
          {t('signIn.expired')}
        </p>
      ) : null}
      <p className="muted">{t('signIn.hint')}</p>
      {session ? (
        <p>
          {t('signIn.signedInAs', { user: session.userId })}{' '}
          <button type="button" className="link" onClick={() => signOut()}>
            {t('nav.signOut')}
          </button>
        </p>
      ) : null}
      <div className="row" role="group" aria-label={t('signIn.demoUsers')}>
        {DEMO_USERS.map((user) => (
          <button key={user} type="button" disabled={busy} onClick={() => void signInAs(user)}>
            {t('signIn.as', { user })}
          </button>
        ))}
      </div>
      <form onSubmit={onSubmit} className="stack">
        <label>
          {t('signIn.other')}
          <input name="user" value={name} onChange={(e) => setName(e.target.value)} pattern="[A-Za-z0-9_.\-]{1,64}" autoComplete="username" />
        </label>
        <button type="submit" disabled={busy || !name.trim()}>
          {t('signIn.submit')}
        </button>
      </form>
      {error ? (
        <p role="alert" className="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}
