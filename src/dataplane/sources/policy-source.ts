/**
 * Where the proxy gets its policies from. The runtime asks a PolicySource for the current
 * PolicyProvider (one policy for every client, or a set of workspaces told apart by
 * Proxy-Authorization) and never reads a file itself, so the same runtime runs on local files
 * today (file-policy-source.ts: `--policy` / `--workspaces`) and on the control plane's snapshot
 * feed next.
 *
 * The provider object stays the same for the life of the source; a new policy set replaces its
 * contents atomically (a request sees the old set or the new one, never a mix), and each
 * replacement is told to the `onChange` listeners.
 */
import type { PolicyProvider } from '../proxy/client-identity.js';

/** What a successful replacement installed. */
export interface PolicyChange {
  /** One line for logs: `policy "X", restrict` or `3 workspaces and a default policy`. */
  summary: string;
}

export interface PolicySource {
  /** The policies to enforce now; the same object after every replacement. */
  readonly provider: PolicyProvider;
  /** One line for logs describing the current set. */
  readonly summary: string;
  /**
   * Calls `listener` after each atomic replacement (from `reload()` or from the source itself,
   * e.g. a new snapshot). Returns a function that removes the listener.
   */
  onChange(listener: (change: PolicyChange) => void): () => void;
  /**
   * Fetches the policies again and swaps them in, or throws (PolicyError with `FILE:LINE:COL`
   * diagnostics, ConfigError) and leaves the running set untouched.
   */
  reload(): PolicyChange;
  /** Stops watching for changes; the provider keeps its last set. */
  close(): Promise<void>;
}
