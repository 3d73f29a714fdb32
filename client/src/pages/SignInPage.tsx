import { useState, type FormEvent } from 'react';
import { navigate } from '../router';
import { fetchDevToken, useSession } from '../session';

const DEMO_USERS = ['alice', 'bob', 'admin'];

/** Development sign-in: pick a demo user (or type any name); the dev server mints the token. */
export function SignInPage() {
  const { session, signIn, signOut } = useSession();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const signInAs = async (user: string) => {
    setBusy(true);
    setError(null);
    try {
      signIn(await fetchDevToken(user));
      navigate('/');
    } catch (e) {
      setError(e instanceof Error ? e.message : 'Sign-in is not available right now.');
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
      <h1>Sign in</h1>
      <p className="muted">Development sign-in: choose a demo shopper. No password needed.</p>
      {session ? (
        <p>
          Signed in as <strong>{session.userId}</strong>.{' '}
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </p>
      ) : null}
      <div className="row" role="group" aria-label="Demo users">
        {DEMO_USERS.map((user) => (
          <button key={user} type="button" disabled={busy} onClick={() => void signInAs(user)}>
            Sign in as {user}
          </button>
        ))}
      </div>
      <form onSubmit={onSubmit} className="stack">
        <label>
          Other user name
          <input name="user" value={name} onChange={(e) => setName(e.target.value)} pattern="[A-Za-z0-9_.\-]{1,64}" autoComplete="username" />
        </label>
        <button type="submit" disabled={busy || !name.trim()}>
          Sign in
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
