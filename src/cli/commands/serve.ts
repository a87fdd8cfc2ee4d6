/**
 * `egress serve` (DESIGN.md 9.3): declares the command only. The control plane (HTTP server,
 * database drivers) is loaded when the command runs, from dist/src and outside the CLI bundle,
 * so that no other command pays for loading it and better-sqlite3 and pg load as Node packages.
 */
import type { Command } from 'commander';
import { importModule } from '../../dataplane/import-module.js';
import type { CliContext } from '../command.js';
import type * as ServeRun from './serve-run.js';

export interface ServeOptions {
  listen: string;
  dataDir: string;
  db?: string;
}

/** dist/src/cli/commands/serve-run.js, from this file or from the bundle (dist/bundle/). */
function serveRunUrl(): string {
  const here = import.meta.url;
  const relative = here.endsWith('.cjs') ? '../src/cli/commands/serve-run.js' : './serve-run.js';
  return new URL(relative, here).href;
}

export function register(program: Command, cli: CliContext): void {
  program
    .command('serve')
    .description(
      'run the control plane: REST API, roles, policy store and audit (SQLite by default)',
    )
    .option('--listen <host:port>', 'where the API listens', '127.0.0.1:8080')
    .option('--data-dir <dir>', 'data directory (SQLite database, admin token)', './egress-data')
    .option('--db <url>', 'use PostgreSQL instead of SQLite (postgres://user@host:port/db)')
    .action(async (opts: ServeOptions) => {
      const run = await importModule<typeof ServeRun>(serveRunUrl());
      cli.exit(await run.runServe(opts, cli.io));
    });
}
