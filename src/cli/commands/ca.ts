/**
 * `egress ca export`: prints the workspace's inspection CA certificate (PEM), creating the CA if
 * there is none yet, so clients can be told to trust it. The key never leaves the state folder.
 */
import {
  CertificateAuthority,
  defaultStateDir,
} from '../../dataplane/inspect/certificate-authority.js';
import { EXIT_OK, EXIT_RUNTIME } from '../errors.js';
import type { Io } from '../io.js';
import type { Command } from 'commander';
import type { CliContext } from '../command.js';

export interface CaExportOptions {
  stateDir?: string;
  workspace?: string;
}

export async function runCaExport(options: CaExportOptions, io: Io): Promise<number> {
  const stateDir = options.stateDir ?? defaultStateDir();
  const workspace = options.workspace ?? 'default';
  let ca: CertificateAuthority;
  try {
    ca = await CertificateAuthority.open(stateDir, workspace);
  } catch (err) {
    io.err(
      `egress: cannot open the inspection CA of workspace "${workspace}" in ${stateDir}: ${(err as Error).message}\n`,
    );
    return EXIT_RUNTIME;
  }
  io.out(ca.certificatePem);
  return EXIT_OK;
}

export function register(program: Command, cli: CliContext): void {
  program
    .command('ca')
    .description('the inspection CA that inspect mode signs its certificates with')
    .command('export')
    .description('print the CA certificate (PEM) for clients to trust; creates the CA if absent')
    .option('--state-dir <dir>', 'where the CA lives (default ~/.local/state/egress)')
    .option('--workspace <name>', 'whose CA (one per workspace)', 'default')
    .action(async (opts: CaExportOptions) => cli.exit(await runCaExport(opts, cli.io)));
}
