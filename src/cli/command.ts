/**
 * What every `commands/<verb>.ts` gets to register itself: where to print, how to set the exit
 * code, and the work bin/egress started before loading the CLI. Each verb declares its own flags
 * (shared groups come from options.ts) and loads its implementation only when it runs, so
 * `egress check` never loads the proxy.
 */
import type { Command } from 'commander';
import type { SpawnedBridge } from '../dataplane/sandbox/host/launcher.js';
import type { Io } from './io.js';

/** Work bin/egress started before loading the CLI (the sandbox bridge for `run`). */
export interface EarlyStart {
  bridge?: SpawnedBridge;
}

export interface CliContext {
  io: Io;
  /** Sets the process's exit code (0 done, 1 runtime failure, 2 invalid input). */
  exit(code: number): void;
  early: EarlyStart;
}

/** The shape of every verb module's `register`. */
export type RegisterCommand = (program: Command, cli: CliContext) => void;
