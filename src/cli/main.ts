/**
 * The egress command line (DESIGN.md section 6). Commands are thin: they parse arguments, call
 * the policy engine or the data plane, and print. Exit codes: 0 done, 1 runtime failure,
 * 2 invalid input.
 */
import { Command, CommanderError } from 'commander';
import { formatDiagnostic, PolicyError } from '../policy/source/diagnostics.js';
import type { CliContext, EarlyStart, RegisterCommand } from './command.js';
import { register as registerCa } from './commands/ca.js';
import { register as registerCheck } from './commands/check.js';
import { register as registerImport } from './commands/import.js';
import { register as registerLint } from './commands/lint.js';
import { register as registerProxy } from './commands/proxy.js';
import { register as registerRun } from './commands/run.js';
import { register as registerSchema } from './commands/schema.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerSummary } from './commands/summary.js';
import { ConfigError, EXIT_INVALID, EXIT_OK, EXIT_RUNTIME, RuntimeFailure } from './errors.js';
import { exitQuietlyOnBrokenPipe, processIo, type Io } from './io.js';
import type { PolicyOptions } from './load-policy.js';

export type { EarlyStart } from './command.js';

const VERSION = '0.1.0';

/** The verbs, in the order `egress help` lists them. */
const COMMANDS: RegisterCommand[] = [
  registerCheck,
  registerLint,
  registerImport,
  registerSummary,
  registerProxy,
  registerRun,
  registerCa,
  registerSchema,
  registerServe,
];

function buildProgram(cli: CliContext): Command {
  const program = new Command('egress')
    .description(
      'Control and record the outbound network traffic of workspaces, CI jobs, sandboxes and AI agents.',
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => cli.io.out(s), writeErr: (s) => cli.io.err(s) })
    .showHelpAfterError('(run "egress help" for usage)');
  for (const register of COMMANDS) register(program, cli);
  return program;
}

export async function main(
  argv: string[],
  io: Io = processIo,
  early: EarlyStart = {},
): Promise<number> {
  let code = EXIT_OK;
  if (io === processIo) exitQuietlyOnBrokenPipe();
  const program = buildProgram({ io, exit: (c) => (code = c), early });
  let policyArgs: PolicyOptions = {};
  program.hook('preAction', (_this, action) => {
    policyArgs = action.opts() as PolicyOptions;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return EXIT_OK;
      return EXIT_INVALID;
    }
    if (err instanceof RuntimeFailure) {
      io.err(`egress: ${err.message}\n`);
      return EXIT_RUNTIME;
    }
    if (err instanceof ConfigError) {
      io.err(`egress: ${err.message}\n`);
      return EXIT_INVALID;
    }
    if (err instanceof PolicyError) {
      for (const d of err.diagnostics) io.err(formatDiagnostic(d) + '\n');
      const hint = (await import('./load-policy.js')).formatHint(err, policyArgs);
      if (hint) io.err(`egress: ${hint}\n`);
      return EXIT_INVALID;
    }
    io.err(`egress: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT_RUNTIME;
  }
}
