import { useCallback, useEffect, useState } from 'react';
import { type ApiError, api } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (null: nothing yet) and reloads on demand; data of another path is never shown. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{
    path: string | null;
    data?: T;
    error?: ApiError | Error;
    loading: boolean;
  }>({
    path: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` is how reload() asks for a new fetch
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api
      .get<T>(path)
      .then((data) => live && setState({ path, data, loading: false }))
      .catch((error: ApiError | Error) => live && setState({ path, error, loading: false }));
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const current = state.path === path;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: !current || state.loading,
    reload,
  };
}
