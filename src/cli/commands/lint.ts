/** `egress lint`: validate a policy; FILE:LINE:COL messages; exit 0 valid, 2 invalid. */
import { lintPolicy } from '../../policy/lint.js';
import { formatDiagnostic } from '../../policy/source/diagnostics.js';
import { EXIT_INVALID, EXIT_OK } from '../errors.js';
import type { Io } from '../io.js';
import { loadPolicyFromOptions, type PolicyOptions } from '../load-policy.js';
import { ownTestErrors } from './policy-tests-output.js';
import type { Command } from 'commander';
import type { CliContext } from '../command.js';
import { policyOptions } from '../options.js';

export function runLint(options: PolicyOptions, io: Io): number {
  const loaded = loadPolicyFromOptions(options);
  const warnings = [
    ...loaded.warnings,
    ...lintPolicy(loaded.policy, { ecosystemExtras: loaded.extras }),
  ].sort((a, b) => a.line - b.line || a.col - b.col);
  // The policy's own tests: a failing one is an error at its LINE:COL (exit 2).
  const testErrors = ownTestErrors(loaded.policy, loaded.extras);
  if (testErrors.length) {
    const all = [...warnings, ...testErrors].sort((a, b) => a.line - b.line || a.col - b.col);
    for (const d of all) io.err(formatDiagnostic(d) + '\n');
    return EXIT_INVALID;
  }
  for (const w of warnings) io.err(formatDiagnostic(w) + '\n');
  const p = loaded.policy;
  io.out(
    `${options.policy}: valid ${p.origin?.format ?? 'native'} policy "${p.name}" (${p.mode}, ${p.rules.length} rule${p.rules.length === 1 ? '' : 's'})${warnings.length ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : ''}\n`,
  );
  return EXIT_OK;
}

export function register(program: Command, cli: CliContext): void {
  policyOptions(program.command('lint'))
    .description('validate a policy: FILE:LINE:COL messages; exit 0 valid, 2 invalid')
    .action((opts: PolicyOptions) => cli.exit(runLint(opts, cli.io)));
}
