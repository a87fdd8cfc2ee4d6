/**
 * Which Harden-Runner configuration a workflow stands for. Each job has its own: the `with:` of
 * its step-security/harden-runner step, or, for a job without one, the cluster-level policy
 * (ARC) when one is given. A job-level policy overrides the cluster-level one entirely.
 *
 * One policy file is one policy, so: `--role JOB_ID` (FormatInput.role) picks a job; without it,
 * every job that is governed must have the same configuration, or the import asks for --role.
 */
import type { Path } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { didYouMean } from '../../source/suggest.js';
import type { FormatInput } from '../types.js';
import {
  configKey,
  resolveClusterConfig,
  resolveStepConfig,
  type HardenRunnerConfig,
  type Reporters,
} from './config.js';
import type { WorkflowRaw } from './schema.js';

const HARDEN_RUNNER = /^step-security\/harden-runner(@|$)/i;

export interface Chosen {
  config: HardenRunnerConfig;
  /** The job it came from; undefined for the cluster-level policy of a bare step. */
  jobId?: string;
  cluster: boolean;
}

export function isHardenRunnerStep(uses: unknown): boolean {
  return typeof uses === 'string' && HARDEN_RUNNER.test(uses.trim());
}

/** The path of the `with:` block of the job's harden-runner step, or undefined if it has none. */
function stepWithPath(raw: WorkflowRaw, jobId: string, reporter: Reporter): Path | undefined {
  const steps = raw.jobs[jobId]?.steps ?? [];
  const found = steps.flatMap((s, i) => (isHardenRunnerStep(s.uses) ? [i] : []));
  if (found.length > 1)
    reporter.error(
      ['jobs', jobId, 'steps', found[1]!, 'uses'],
      `job "${jobId}" runs step-security/harden-runner twice`,
      'keep one harden-runner step, the first step of the job',
    );
  return found.length ? ['jobs', jobId, 'steps', found[0]!, 'with'] : undefined;
}

function configForJob(
  raw: WorkflowRaw,
  jobId: string,
  reporter: Reporter,
  input: FormatInput,
  reporters: Reporters,
  cluster: () => HardenRunnerConfig | undefined,
): Chosen | undefined {
  const withPath = stepWithPath(raw, jobId, reporter);
  if (withPath) {
    const config = resolveStepConfig(reporter, withPath, input, reporters);
    return config && { config, jobId, cluster: false };
  }
  const config = cluster();
  return config && { config, jobId, cluster: true };
}

export function chooseFromWorkflow(
  raw: WorkflowRaw,
  reporter: Reporter,
  input: FormatInput,
  reporters: Reporters,
): Chosen | undefined {
  const jobIds = Object.keys(raw.jobs);
  let clusterConfig: HardenRunnerConfig | undefined | null = null;
  const cluster = (): HardenRunnerConfig | undefined => {
    if (clusterConfig === null)
      clusterConfig = input.clusterPolicy && resolveClusterConfig(input.clusterPolicy, reporters);
    return clusterConfig;
  };
  if (input.role !== undefined) {
    if (!jobIds.includes(input.role)) {
      reporter.error(
        ['jobs'],
        `this workflow has no job "${input.role}"`,
        didYouMean(input.role, jobIds) ?? `its jobs are ${jobIds.map((j) => `"${j}"`).join(', ')}`,
        { key: true },
      );
      return undefined;
    }
    const chosen = configForJob(raw, input.role, reporter, input, reporters, cluster);
    if (!chosen && !reporter.hasErrors && !input.clusterPolicy)
      reporter.error(
        ['jobs', input.role],
        `job "${input.role}" has no step-security/harden-runner step, and no cluster-level policy was given`,
        'add a harden-runner step to the job, or give the cluster-level policy',
        { key: true },
      );
    return chosen;
  }
  const governed = jobIds.filter((id) => input.clusterPolicy || stepWithPath(raw, id, reporter));
  if (governed.length === 0) {
    reporter.error(
      ['jobs'],
      'no job of this workflow uses step-security/harden-runner',
      'add "- uses: step-security/harden-runner@v2" as the first step of a job',
      { key: true },
    );
    return undefined;
  }
  for (const id of jobIds.filter((j) => !governed.includes(j)))
    reporter.warn(
      ['jobs', id],
      `job "${id}" has no harden-runner step and no cluster-level policy was given, so this policy does not cover it`,
      undefined,
      { key: true },
    );
  const chosen = governed.map((id) => configForJob(raw, id, reporter, input, reporters, cluster));
  if (chosen.some((c) => !c)) return undefined;
  const byKey = new Map<string, string[]>();
  for (const c of chosen as Chosen[])
    byKey.set(configKey(c.config), [...(byKey.get(configKey(c.config)) ?? []), c.jobId!]);
  if (byKey.size > 1) {
    const groups = [...byKey.values()].map((ids) => ids.map((id) => `"${id}"`).join(', '));
    reporter.error(
      ['jobs'],
      `the jobs of this workflow have different Harden-Runner policies (${groups.join(' / ')}), and one policy file holds one of them`,
      `pick a job with --role JOB_ID, e.g. --role ${governed[0]}`,
      { key: true },
    );
    return undefined;
  }
  return chosen[0];
}
