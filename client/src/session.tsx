import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

/** The signed-in shopper: a client JWT from the development sign-in, kept in localStorage. */
export interface Session {
  userId: string;
  roles: string[];
  token: string;
}

const KEY = 'shop.session';

function load(): Session | null {
  try {
    const raw = window.localStorage.getItem(KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<Session>;
    if (typeof value.userId !== 'string' || typeof value.token !== 'string') return null;
    if (isExpired(value.token)) return null;
    return { userId: value.userId, token: value.token, roles: Array.isArray(value.roles) ? value.roles : [] };
  } catch {
    return null;
  }
}

/** Reads the exp claim (no verification: the gateway verifies); an expired token means signed out. */
function isExpired(token: string): boolean {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof payload.exp === 'number' && payload.exp * 1000 <= Date.now();
  } catch {
    return true;
  }
}

interface SessionContextValue {
  session: Session | null;
  signIn(session: Session): void;
  signOut(): void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(load);
  const signIn = useCallback((next: Session) => {
    window.localStorage.setItem(KEY, JSON.stringify(next));
    setSession(next);
  }, []);
  const signOut = useCallback(() => {
    window.localStorage.removeItem(KEY);
    setSession(null);
  }, []);
  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** Asks the storefront's development server for a token (GET /dev/token?user=...). */
export async function fetchDevToken(user: string): Promise<Session> {
  const response = await fetch(`/dev/token?user=${encodeURIComponent(user)}`);
  const body = (await response.json().catch(() => ({}))) as { token?: string; userId?: string; roles?: string[]; error?: string };
  if (!response.ok || !body.token || !body.userId) throw new Error(body.error ?? 'Sign-in is not available right now.');
  return { token: body.token, userId: body.userId, roles: body.roles ?? [] };
}
