/**
 * Reads the policy a command names: a file in any supported format, or a built-in
 * (`builtin:monitor|restrict|inspect`). File-system work for formats (the harden-runner policy
 * store, a cluster-level policy) happens here, so the formats themselves stay pure. The file
 * policy source (files.ts) and the CLI's policy commands both read policies through it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { builtinModeOf, builtinPolicy } from '../../policy/builtin.js';
import type { EcosystemExtras } from '../../policy/ecosystems/index.js';
import {
  FORMAT_IDS,
  isFormatId,
  loadPolicy,
  type FormatId,
  type SourceText,
} from '../../policy/formats/index.js';
import type { Policy } from '../../policy/model.js';
import type { Diagnostic } from '../../policy/source/diagnostics.js';
import { findHostRegistries, type HostRegistries } from '../host-registries.js';
import { ConfigError } from '../errors.js';

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
  if (!existsSync(path)) throw new ConfigError(`${what} "${path}" does not exist`);
  if (statSync(path).isDirectory())
    throw new ConfigError(`${what} "${path}" is a folder; give a file`);
  try {
    return { text: readFileSync(path, 'utf8'), file: path };
  } catch (err) {
    throw new ConfigError(`cannot read ${what} "${path}": ${(err as Error).message}`);
  }
}

/** Looks NAME up in a policy-store folder: NAME.yml, NAME.yaml or NAME.json. */
function storeResolver(
  dir: string | undefined,
): ((name: string) => SourceText | undefined) | undefined {
  if (!dir) return undefined;
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new ConfigError(`policy store "${dir}" is not a folder`);
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
    throw new ConfigError(
      `unknown format "${format}"; --from takes one of ${FORMAT_IDS.join(', ')}`,
    );
  return format;
}

export function loadPolicyFromOptions(options: PolicyOptions): LoadedPolicy {
  const registries: HostRegistries =
    options.hostRegistries === false ? { byEcosystem: {}, all: [] } : findHostRegistries();
  const extras = registries.byEcosystem;
  if (!options.policy)
    throw new ConfigError('--policy FILE is required (or --policy builtin:restrict)');
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
