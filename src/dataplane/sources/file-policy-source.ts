/**
 * The PolicySource of local files, what `egress proxy` enforces without a control plane: one
 * policy for every client (`--policy`), or several workspaces told apart by Proxy-Authorization
 * (`--workspaces`, with an optional `--default-policy` for clients that send no credentials).
 * `reload()` (the runtime calls it on SIGHUP) re-reads everything and swaps it in atomically, or
 * throws and leaves the running policies untouched.
 */
import { compilePolicy } from '../../policy/index.js';
import { formatDiagnostic, PolicyError } from '../../policy/source/diagnostics.js';
import {
  ListenerPolicy,
  WorkspacePolicies,
  type DefaultWorkspace,
  type PolicyProvider,
} from '../proxy/client-identity.js';
import { ConfigError } from '../errors.js';
import { loadPolicyFromOptions, type PolicyOptions } from './policy-file.js';
import type { PolicyChange, PolicySource } from './policy-source.js';
import { loadWorkspaces } from './workspaces-file.js';

export interface FilePolicyOptions extends PolicyOptions {
  workspace?: string;
  workspaces?: string;
  defaultPolicy?: string;
}

/** What a refused reload says in the log: the `FILE:LINE:COL` errors, or the message. */
export function reloadFailure(err: unknown): string {
  return err instanceof PolicyError
    ? err.diagnostics.map(formatDiagnostic).join('; ')
    : (err as Error).message;
}

/** Reads the files once (throws PolicyError / ConfigError on a bad one) and returns the source. */
export function openFilePolicySource(options: FilePolicyOptions): PolicySource {
  if (options.workspaces && options.policy)
    throw new ConfigError('give either --policy (one policy) or --workspaces (several), not both');
  if (!options.workspaces && !options.policy)
    throw new ConfigError('--policy FILE (or --workspaces FILE_OR_DIR) is required');
  if (options.defaultPolicy && !options.workspaces)
    throw new ConfigError('--default-policy only applies with --workspaces');
  const loader = options.workspaces ? workspaceLoader(options) : listenerLoader(options);
  return new FilePolicySource(loader);
}

/** The part that differs between --policy and --workspaces: the provider and how to refill it. */
interface Loader {
  provider: PolicyProvider;
  describe(): string;
  /** Reads and compiles every file, then replaces the provider's contents; all or nothing. */
  refill(): void;
}

class FilePolicySource implements PolicySource {
  readonly #loader: Loader;
  readonly #listeners = new Set<(change: PolicyChange) => void>();
  #summary: string;

  constructor(loader: Loader) {
    this.#loader = loader;
    this.#summary = loader.describe();
  }

  get provider(): PolicyProvider {
    return this.#loader.provider;
  }

  get summary(): string {
    return this.#summary;
  }

  onChange(listener: (change: PolicyChange) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  reload(): PolicyChange {
    this.#loader.refill();
    this.#summary = this.#loader.describe();
    const change = { summary: this.#summary };
    for (const listener of this.#listeners) listener(change);
    return change;
  }

  close(): Promise<void> {
    this.#listeners.clear();
    return Promise.resolve();
  }
}

function listenerLoader(options: FilePolicyOptions): Loader {
  const load = () => {
    const loaded = loadPolicyFromOptions(options);
    return compilePolicy(loaded.policy, { ecosystemExtras: loaded.extras });
  };
  const provider = new ListenerPolicy(load(), options.workspace ?? 'default');
  return {
    provider,
    describe: () => `policy "${provider.compiled.policy.name}", ${provider.compiled.policy.mode}`,
    refill: () => provider.replace(load()),
  };
}

function workspaceLoader(options: FilePolicyOptions): Loader {
  const load = (): [ReturnType<typeof loadWorkspaces>, DefaultWorkspace | undefined] => {
    const entries = loadWorkspaces(options.workspaces!, {
      ...(options.from !== undefined ? { from: options.from } : {}),
      ...(options.hostRegistries === false ? { hostRegistries: false } : {}),
    });
    if (!options.defaultPolicy) return [entries, undefined];
    const workspace = options.workspace ?? 'default';
    if (entries.some((e) => e.workspace === workspace))
      throw new ConfigError(
        `the default policy's workspace name "${workspace}" is also a listed workspace; pick another with --workspace`,
      );
    const loaded = loadPolicyFromOptions({ ...options, policy: options.defaultPolicy });
    return [
      entries,
      { workspace, compiled: compilePolicy(loaded.policy, { ecosystemExtras: loaded.extras }) },
    ];
  };
  const [entries, fallback] = load();
  const provider = new WorkspacePolicies(entries, fallback);
  let count = entries.length;
  let withDefault = fallback !== undefined;
  return {
    provider,
    describe: () =>
      `${count} workspace${count === 1 ? '' : 's'}${withDefault ? ' and a default policy' : ''}`,
    refill: () => {
      const [next, nextFallback] = load();
      provider.replace(next, nextFallback);
      count = next.length;
      withDefault = nextFallback !== undefined;
    },
  };
}
