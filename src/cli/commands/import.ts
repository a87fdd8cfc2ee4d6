/** `egress import --from FORMAT FILE`: print the policy as native YAML. */
import { emitNative } from '../../policy/formats/index.js';
import { formatDiagnostic } from '../../policy/source/diagnostics.js';
import { EXIT_OK, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { loadPolicyFromOptions, type PolicyOptions } from '../load-policy.js';
import type { Command } from 'commander';
import type { CliContext } from '../command.js';
import { policyOptions } from '../options.js';

export function runImport(file: string, options: PolicyOptions, io: Io): number {
  if (!options.from)
    throw new UsageError('--from FORMAT is required, e.g. "egress import --from sds policy.yaml"');
  const loaded = loadPolicyFromOptions({ ...options, policy: file });
  for (const w of loaded.warnings) io.err(formatDiagnostic(w) + '\n');
  const header = `Imported from ${file} (${options.from}${options.role ? `, role ${options.role}` : ''}) by egress import.\nIt decides every destination exactly as the original does.`;
  io.out(emitNative(loaded.policy, { header }));
  return EXIT_OK;
}

export function register(program: Command, cli: CliContext): void {
  policyOptions(program.command('import'), false)
    .description('print a policy of another format as native YAML')
    .argument('<file>', 'the policy file to convert')
    .action((file: string, opts: PolicyOptions) => cli.exit(runImport(file, opts, cli.io)));
}
