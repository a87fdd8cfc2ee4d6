/** Loads data for a screen: value, error (in words) and reload, cancelled on unmount. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorWords } from '../api/client.js';

export interface Async<T> {
  value: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ value?: T; error?: string; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctl.signal).then(
      (value) => !ctl.signal.aborted && setState({ value, loading: false }),
      (err) => !ctl.signal.aborted && setState({ error: errorWords(err), loading: false }),
    );
    return () => ctl.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload } as Async<T>;
}
