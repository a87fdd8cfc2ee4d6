/**
 * Which policies `egress proxy` enforces: one policy for every client (`--policy`), or several
 * workspaces told apart by Proxy-Authorization (`--workspaces`, with an optional
 * `--default-policy` for clients that send no credentials). `reload()` re-reads everything and
 * swaps it in atomically, or throws and leaves the running policies untouched.
 */
import { compilePolicy } from '../../policy/index.js';
import { formatDiagnostic, PolicyError } from '../../policy/source/diagnostics.js';
import {
  ListenerPolicy,
  WorkspacePolicies,
  type DefaultWorkspace,
  type PolicyProvider,
} from '../../dataplane/proxy/client-identity.js';
import { UsageError } from '../errors.js';
import { loadPolicyFromOptions, type PolicyOptions } from '../../dataplane/sources/policy-file.js';
import { loadWorkspaces } from '../workspaces-config.js';

export interface PolicySetupOptions extends PolicyOptions {
  workspace?: string;
  workspaces?: string;
  defaultPolicy?: string;
}

export interface PolicySetup {
  provider: PolicyProvider;
  /** One line for logs: `policy "X", restrict` or `3 workspaces`. */
  summary: string;
  /** Re-reads every policy; throws (PolicyError, UsageError) without changing anything. */
  reload(): string;
}

/** What a refused reload says in the log: the `FILE:LINE:COL` errors, or the message. */
export function reloadFailure(err: unknown): string {
  return err instanceof PolicyError
    ? err.diagnostics.map(formatDiagnostic).join('; ')
    : (err as Error).message;
}

export function setupPolicies(options: PolicySetupOptions): PolicySetup {
  if (options.workspaces && options.policy)
    throw new UsageError('give either --policy (one policy) or --workspaces (several), not both');
  if (!options.workspaces && !options.policy)
    throw new UsageError('--policy FILE (or --workspaces FILE_OR_DIR) is required');
  if (options.defaultPolicy && !options.workspaces)
    throw new UsageError('--default-policy only applies with --workspaces');
  return options.workspaces ? workspaceSetup(options) : listenerSetup(options);
}

function listenerSetup(options: PolicySetupOptions): PolicySetup {
  const load = () => {
    const loaded = loadPolicyFromOptions(options);
    return compilePolicy(loaded.policy, { ecosystemExtras: loaded.extras });
  };
  const first = load();
  const provider = new ListenerPolicy(first, options.workspace ?? 'default');
  const describe = () =>
    `policy "${provider.compiled.policy.name}", ${provider.compiled.policy.mode}`;
  return {
    provider,
    summary: describe(),
    reload: () => {
      provider.replace(load());
      return describe();
    },
  };
}

function workspaceSetup(options: PolicySetupOptions): PolicySetup {
  const load = (): [ReturnType<typeof loadWorkspaces>, DefaultWorkspace | undefined] => {
    const entries = loadWorkspaces(options.workspaces!, {
      ...(options.from !== undefined ? { from: options.from } : {}),
      ...(options.hostRegistries === false ? { hostRegistries: false } : {}),
    });
    if (!options.defaultPolicy) return [entries, undefined];
    const workspace = options.workspace ?? 'default';
    if (entries.some((e) => e.workspace === workspace))
      throw new UsageError(
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
  const describe = (n: number, withDefault: boolean) =>
    `${n} workspace${n === 1 ? '' : 's'}${withDefault ? ' and a default policy' : ''}`;
  return {
    provider,
    summary: describe(entries.length, fallback !== undefined),
    reload: () => {
      const [next, nextFallback] = load();
      provider.replace(next, nextFallback);
      return describe(next.length, nextFallback !== undefined);
    },
  };
}
