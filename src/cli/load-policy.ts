/**
 * Reads the policy a command names: a file in any supported format, or a built-in
 * (`builtin:monitor|restrict|inspect`). File-system work for formats (the harden-runner policy
 * store, a cluster-level policy) happens here, so the formats themselves stay pure.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { builtinModeOf, builtinPolicy } from '../policy/builtin.js';
import type { EcosystemExtras } from '../policy/ecosystems/index.js';
import {
  FORMAT_IDS,
  isFormatId,
  loadPolicy,
  type FormatId,
  type SourceText,
} from '../policy/formats/index.js';
import type { Policy } from '../policy/model.js';
import { PolicyError, type Diagnostic } from '../policy/source/diagnostics.js';
import { findHostRegistries, type HostRegistries } from '../dataplane/host-registries.js';
import { UsageError } from './errors.js';

export interface PolicyOptions {
  policy?: string;
  from?: string;
  role?: string;
  policyStore?: string;
  clusterPolicy?: string;
  hostRegistries?: boolean;
}

export interface LoadedPolicy {
  policy: Policy;
  warnings: Diagnostic[];
  registries: HostRegistries;
  extras: EcosystemExtras;
}

function readSource(path: string, what: string): SourceText {
  if (!existsSync(path)) throw new UsageError(`${what} "${path}" does not exist`);
  if (statSync(path).isDirectory())
    throw new UsageError(`${what} "${path}" is a folder; give a file`);
  try {
    return { text: readFileSync(path, 'utf8'), file: path };
  } catch (err) {
    throw new UsageError(`cannot read ${what} "${path}": ${(err as Error).message}`);
  }
}

/** Looks NAME up in a policy-store folder: NAME.yml, NAME.yaml or NAME.json. */
function storeResolver(
  dir: string | undefined,
): ((name: string) => SourceText | undefined) | undefined {
  if (!dir) return undefined;
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`policy store "${dir}" is not a folder`);
  return (name) => {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) return undefined;
    for (const ext of ['.yml', '.yaml', '.json']) {
      const path = join(dir, name + ext);
      if (existsSync(path)) return readSource(path, 'policy');
    }
    return undefined;
  };
}

export function parseFormat(from: string | undefined): FormatId {
  const format = from ?? 'native';
  if (!isFormatId(format))
    throw new UsageError(
      `unknown format "${format}"; --from takes one of ${FORMAT_IDS.join(', ')}`,
    );
  return format;
}

export function loadPolicyFromOptions(options: PolicyOptions): LoadedPolicy {
  const registries: HostRegistries =
    options.hostRegistries === false ? { byEcosystem: {}, all: [] } : findHostRegistries();
  const extras = registries.byEcosystem;
  if (!options.policy)
    throw new UsageError('--policy FILE is required (or --policy builtin:restrict)');
  const builtin = builtinModeOf(options.policy);
  if (builtin)
    return { policy: builtinPolicy(builtin, registries.all), warnings: [], registries, extras };
  const format = parseFormat(options.from);
  const source = readSource(options.policy, 'policy file');
  const resolveNamedPolicy = storeResolver(options.policyStore);
  const parsed = loadPolicy(format, {
    ...source,
    ...(options.role !== undefined ? { role: options.role } : {}),
    ...(resolveNamedPolicy ? { resolveNamedPolicy } : {}),
    ...(options.clusterPolicy
      ? { clusterPolicy: readSource(options.clusterPolicy, 'cluster policy') }
      : {}),
    ecosystemExtras: extras,
  });
  // Relative paths in the policy (a decider module) start from the policy file's folder.
  parsed.policy.origin ??= { file: source.file, format };
  return { ...parsed, registries, extras };
}

/** A hint for a native-format failure on a file that is plainly in another format. */
export function formatHint(err: PolicyError, options: PolicyOptions): string | undefined {
  if (options.from && options.from !== 'native') return undefined;
  const text = err.diagnostics.map((d) => d.message).join('\n');
  const guesses: Array<[RegExp, FormatId]> = [
    [/"whitelistedDomains"|"restrictedTraffic"/, 'sds'],
    [/"allowedDomains"|"network"/, 'srt'],
    [/"services"|"global_deny_list"/, 'smokescreen'],
    [/"selector"/, 'fly'],
    [/"jobs"|"on"/, 'harden-runner'],
  ];
  for (const [re, format] of guesses)
    if (re.test(text))
      return `if ${basename(options.policy ?? '')} is a ${format} policy, add --from ${format}`;
  return undefined;
}
