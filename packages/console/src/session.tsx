import type { User } from '@leengine/common';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from 'react';
import { ApiError, api } from './api.ts';

interface SessionState {
  user: User | null;
  loading: boolean;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionState>({
  user: null,
  loading: true,
  refresh: async () => {},
  signOut: async () => {},
});

/** Who is signed in (GET /user; a 401 means nobody). */
export function SessionProvider(props: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(true);
  const refresh = useCallback(async () => {
    try {
      // GET /session answers null rather than 401 when nobody is signed in.
      setUser((await api.get<{ user: User | null }>('/session')).user);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      setUser(null);
    } finally {
      setLoading(false);
    }
  }, []);
  const signOut = useCallback(async () => {
    await api.delete('/session');
    setUser(null);
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  return <SessionContext value={{ user, loading, refresh, signOut }}>{props.children}</SessionContext>;
}

export function useSession(): SessionState {
  return useContext(SessionContext);
}
