/**
 * One Harden-Runner configuration, resolved: the egress policy and the allowed endpoints of a
 * job's step, merged with its named policy from the policy store the way the action does
 * (policy-utils.ts mergeConfigs: the store's egress-policy wins; the step's allowed-endpoints
 * win when they are not empty), or of a cluster-level policy file.
 */
import type { Selector } from '../../model.js';
import type { Path } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { didYouMean } from '../../source/suggest.js';
import { validateWithSchema } from '../../source/validate.js';
import { openDocument } from '../common.js';
import type { FormatInput, SourceText } from '../types.js';
import { convertEndpoints } from './endpoints.js';
import { stepWithSchema, storedPolicySchema, type StoredPolicyRaw } from './schema.js';

export type EgressPolicy = 'audit' | 'block';

export interface HardenRunnerConfig {
  egress: EgressPolicy;
  endpoints: Selector[];
  /** Where the endpoints (or, without any, the egress policy) are written. */
  source: Reporter;
  sourcePath: Path;
  /** The named policy used, if any. */
  policyName?: string;
}

/** Every reporter used while reading, so their diagnostics can be reported together. */
export type Reporters = Reporter[];

const ACTION_DEFAULT_EGRESS: EgressPolicy = 'block';

function isExpression(value: unknown): boolean {
  return typeof value === 'string' && value.includes('${{');
}

function checkExpressions(raw: Record<string, unknown>, reporter: Reporter, base: Path): void {
  for (const key of ['egress-policy', 'allowed-endpoints', 'policy']) {
    if (isExpression(raw[key]))
      reporter.error(
        [...base, key],
        `"${key}" is a GitHub Actions expression, known only when the job runs`,
        'write the value itself',
      );
  }
}

function readEgress(
  value: string | undefined,
  reporter: Reporter,
  path: Path,
): EgressPolicy | undefined {
  if (value === undefined || isExpression(value)) return undefined;
  const v = value.trim();
  if (v === 'audit' || v === 'block') return v;
  reporter.error(
    path,
    `"egress-policy" must be "audit" or "block", not ${JSON.stringify(value)}`,
    didYouMean(v, ['audit', 'block']),
  );
  return undefined;
}

function endpointsOf(
  raw: Pick<StoredPolicyRaw, 'allowed-endpoints'>,
  reporter: Reporter,
  base: Path,
  text: string,
): Selector[] {
  const value = raw['allowed-endpoints'];
  if (value === undefined || isExpression(value)) return [];
  return convertEndpoints(value, reporter, [...base, 'allowed-endpoints'], text);
}

/** Reads a whole policy file (store or cluster level). */
export function readStoredPolicy(
  source: SourceText,
  reporters: Reporters,
): { raw: StoredPolicyRaw; reporter: Reporter; endpoints: Selector[] } | undefined {
  const reporter = openDocument(source);
  reporters.push(reporter);
  const value = reporter.doc.value ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    reporter.error(
      [],
      'a Harden-Runner policy file is a mapping with "egress-policy" and "allowed-endpoints"',
    );
    return undefined;
  }
  const raw = reporter.doc.value === null ? {} : validateWithSchema(storedPolicySchema, reporter);
  if (!raw) return undefined;
  checkExpressions(raw, reporter, []);
  return { raw, reporter, endpoints: endpointsOf(raw, reporter, [], source.text) };
}

export function resolveClusterConfig(
  source: SourceText,
  reporters: Reporters,
): HardenRunnerConfig | undefined {
  const stored = readStoredPolicy(source, reporters);
  if (!stored) return undefined;
  const egress = readEgress(stored.raw['egress-policy'], stored.reporter, ['egress-policy']);
  return {
    egress: egress ?? ACTION_DEFAULT_EGRESS,
    endpoints: stored.endpoints,
    source: stored.reporter,
    sourcePath: stored.raw['allowed-endpoints'] !== undefined ? ['allowed-endpoints'] : [],
  };
}

/** The configuration of one harden-runner step whose `with:` block is at `base` (may be absent). */
export function resolveStepConfig(
  reporter: Reporter,
  base: Path,
  input: FormatInput,
  reporters: Reporters,
): HardenRunnerConfig | undefined {
  const present = reporter.doc.get(base) !== undefined && reporter.doc.get(base) !== null;
  const raw = present ? validateWithSchema(stepWithSchema, reporter, base) : {};
  if (!raw) return undefined;
  checkExpressions(raw, reporter, base);
  const useStore = raw['use-policy-store'];
  if (useStore === true || String(useStore).trim() === 'true')
    reporter.error(
      [...base, 'use-policy-store'],
      '"use-policy-store" fetches the policy attached to this workflow from StepSecurity when the job runs; egress cannot see it',
      'name the policy with "policy: NAME" and pass the policy store folder with --policy-store DIR',
      { key: true },
    );
  let egress = readEgress(raw['egress-policy'], reporter, [...base, 'egress-policy']);
  let endpoints = endpointsOf(raw, reporter, base, input.text);
  let source = reporter;
  let sourcePath: Path =
    raw['allowed-endpoints'] !== undefined ? [...base, 'allowed-endpoints'] : base;
  const name = raw.policy?.trim();
  if (name && !isExpression(name)) {
    const found = input.resolveNamedPolicy?.(name);
    if (!found) {
      reporter.error(
        [...base, 'policy'],
        input.resolveNamedPolicy
          ? `the policy store has no policy named "${name}"`
          : `"policy: ${name}" names a policy from a policy store, and no policy store was given`,
        input.resolveNamedPolicy
          ? `add ${name}.yml to the policy store`
          : `pass the policy store folder that holds ${name}.yml with --policy-store DIR`,
      );
      return undefined;
    }
    const stored = readStoredPolicy(found, reporters);
    if (!stored) return undefined;
    const storeEgress = readEgress(stored.raw['egress-policy'], stored.reporter, ['egress-policy']);
    if (storeEgress) egress = storeEgress;
    if (endpoints.length === 0 && stored.raw['allowed-endpoints'] !== undefined) {
      endpoints = stored.endpoints;
      source = stored.reporter;
      sourcePath = ['allowed-endpoints'];
    }
  }
  const config: HardenRunnerConfig = {
    egress: egress ?? ACTION_DEFAULT_EGRESS,
    endpoints,
    source,
    sourcePath,
  };
  if (name) config.policyName = name;
  return config;
}

/** Two configurations that allow the same endpoints in the same mode. */
export function configKey(config: HardenRunnerConfig): string {
  const entries = config.endpoints.map((s) => `${s.host ?? s.cidr}:${s.ports?.[0]?.from}`).sort();
  return `${config.egress} ${[...new Set(entries)].join(' ')}`;
}
