/**
 * Reads Harden-Runner egress settings into the model (DESIGN.md section 4): `audit` → monitor,
 * `block` → restrict with default deny; `allowed-endpoints` → one allow rule of host:port
 * entries, then the endpoints the agent always allows (implicit-endpoints.ts). Accepts a workflow, a single step (`uses:` + `with:`), or a bare `with:` block.
 */
import { emptyPolicy, type Policy, type Rule } from '../../model.js';
import { PolicyError } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { sortDiagnostics } from '../../source/reporter.js';
import { validateWithSchema } from '../../source/validate.js';
import { openDocument } from '../common.js';
import { baseName, fileStem } from '../file-name.js';
import type { FormatInput, ParsedPolicy, PolicyFormat } from '../types.js';
import { resolveStepConfig, type HardenRunnerConfig, type Reporters } from './config.js';
import { IMPLICIT_ENDPOINTS, implicitEndpointsRule } from './implicit-endpoints.js';
import { singleStepSchema, workflowSchema } from './schema.js';
import { chooseFromWorkflow, isHardenRunnerStep, type Chosen } from './workflow.js';

function throwIfAnyErrors(reporters: Reporters): void {
  if (reporters.some((r) => r.hasErrors))
    throw new PolicyError(reporters.flatMap((r) => sortDiagnostics(r.diagnostics)));
}

function chooseConfig(
  reporter: Reporter,
  input: FormatInput,
  reporters: Reporters,
): Chosen | undefined {
  const value = reporter.doc.value as Record<string, unknown>;
  if ('jobs' in value) {
    const raw = validateWithSchema(workflowSchema, reporter);
    return raw && chooseFromWorkflow(raw, reporter, input, reporters);
  }
  if (input.role !== undefined)
    reporter.warn(
      [],
      `--role ${input.role} is ignored: this file is a single step, not a workflow with jobs`,
    );
  if ('uses' in value) {
    const step = validateWithSchema(singleStepSchema, reporter);
    if (!step) return undefined;
    if (!isHardenRunnerStep(step.uses)) {
      reporter.error(['uses'], `this step uses "${step.uses}", not step-security/harden-runner`);
      return undefined;
    }
    const config = resolveStepConfig(reporter, ['with'], input, reporters);
    return config && { config, cluster: false };
  }
  const config = resolveStepConfig(reporter, [], input, reporters);
  return config && { config, cluster: false };
}

function policyName(chosen: Chosen, workflowName: string, input: FormatInput): string {
  if (chosen.cluster) return `${fileStem(input.clusterPolicy!.file)} (cluster-level)`;
  return chosen.jobId === undefined ? workflowName : `${workflowName} / ${chosen.jobId}`;
}

function describe(chosen: Chosen, input: FormatInput): string {
  const job = chosen.jobId === undefined ? '' : ` for job "${chosen.jobId}"`;
  const how = chosen.cluster
    ? `the cluster-level policy ${baseName(input.clusterPolicy!.file)}`
    : chosen.config.policyName
      ? `named policy "${chosen.config.policyName}" of the policy store`
      : `the harden-runner step in ${baseName(input.file)}`;
  return `Harden-Runner egress policy${job}, from ${how}.`;
}

function toRules(config: HardenRunnerConfig): Rule[] {
  const implicit = implicitEndpointsRule();
  if (config.endpoints.length === 0) return [implicit];
  return [
    {
      kind: 'allow',
      name: 'allowed-endpoints',
      selectors: config.endpoints,
      source: config.source.location(config.sourcePath, { key: true }),
    },
    implicit,
  ];
}

export function parseHardenRunner(input: FormatInput): ParsedPolicy {
  const reporter = openDocument(input);
  const reporters: Reporters = [reporter];
  const value = reporter.doc.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    reporter.error(
      [],
      'expected a GitHub Actions workflow, a step using step-security/harden-runner, or its "with:" inputs',
      'start with "egress-policy: block"',
    );
    reporter.throwIfErrors();
  }
  const chosen = chooseConfig(reporter, input, reporters);
  throwIfAnyErrors(reporters);
  if (!chosen) throw new PolicyError(reporters.flatMap((r) => r.diagnostics));
  const { config } = chosen;
  if (config.egress === 'block' && config.endpoints.length === 0)
    config.source.warn(
      config.sourcePath,
      `egress-policy is block and allowed-endpoints is empty: only Harden-Runner's ${IMPLICIT_ENDPOINTS.length} implicit endpoints (${IMPLICIT_ENDPOINTS[0]}, codeload.github.com, the GitHub Actions service) are allowed`,
    );
  const workflowName = (value as { name?: unknown }).name;
  const baseName =
    typeof workflowName === 'string' && workflowName.trim()
      ? workflowName.trim()
      : fileStem(input.file);
  const policy: Policy = {
    ...emptyPolicy(
      policyName(chosen, baseName, input),
      config.egress === 'audit' ? 'monitor' : 'restrict',
    ),
    description: describe(chosen, input),
    rules: toRules(config),
    origin: { file: input.file, format: 'harden-runner' },
  };
  const warnings = reporters.flatMap((r) => r.diagnostics.filter((d) => d.severity === 'warning'));
  return { policy, warnings };
}

export const hardenRunnerFormat: PolicyFormat = {
  id: 'harden-runner',
  title: 'Harden-Runner egress settings (GitHub Actions workflow, step or with: block)',
  parse: parseHardenRunner,
};
