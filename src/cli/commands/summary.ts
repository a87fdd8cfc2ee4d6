/** `egress summary`: what the policy allows and blocks, in words. */
import { summarise } from '../../policy/summary.js';
import { EXIT_OK } from '../errors.js';
import type { Io } from '../io.js';
import { loadPolicyFromOptions, type PolicyOptions } from '../load-policy.js';
import type { Command } from 'commander';
import type { CliContext } from '../command.js';
import { policyOptions } from '../options.js';

export function runSummary(options: PolicyOptions, io: Io): number {
  const loaded = loadPolicyFromOptions(options);
  io.out(summarise(loaded.policy, loaded.extras).join('\n') + '\n');
  return EXIT_OK;
}

export function register(program: Command, cli: CliContext): void {
  policyOptions(program.command('summary'))
    .description('what the policy allows and blocks, in words')
    .action((opts: PolicyOptions) => cli.exit(runSummary(opts, cli.io)));
}
