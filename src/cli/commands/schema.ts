/** `egress schema`: the JSON Schema of the native format, generated from the validator's schema. */
import { nativeJsonSchema } from '../../policy/formats/native/schema.js';
import { EXIT_OK } from '../errors.js';
import type { Io } from '../io.js';
import type { Command } from 'commander';
import type { CliContext } from '../command.js';

export function schemaText(): string {
  return JSON.stringify(nativeJsonSchema(), null, 2) + '\n';
}

export function runSchema(io: Io): number {
  io.out(schemaText());
  return EXIT_OK;
}

export function register(program: Command, cli: CliContext): void {
  program
    .command('schema')
    .description('print the JSON Schema of the native policy format (for editors)')
    .action(() => cli.exit(runSchema(cli.io)));
}
