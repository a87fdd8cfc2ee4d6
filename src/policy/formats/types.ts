/**
 * What every policy format provides: parse text into the model, or throw a PolicyError whose
 * diagnostics point at FILE:LINE:COL. Formats are pure: anything from the file system (a policy
 * store, a cluster-level policy) comes in through `FormatInput`.
 */
import type { Policy } from '../model.js';

export type FormatId =
  'native' | 'sds' | 'gh-aw' | 'harden-runner' | 'fly' | 'condukt' | 'smokescreen' | 'srt';

export const FORMAT_IDS: readonly FormatId[] = [
  'native',
  'sds',
  'gh-aw',
  'harden-runner',
  'fly',
  'condukt',
  'smokescreen',
  'srt',
];

/** A file handed to a format, already read by the caller. */
export interface SourceText {
  text: string;
  /** Shown in diagnostics and decision sources. */
  file: string;
}

export interface FormatInput extends SourceText {
  /** smokescreen: the service role whose ACL applies (`--role`). */
  role?: string;
  /** harden-runner: resolves `policy: NAME` from a policy store; undefined if there is none. */
  resolveNamedPolicy?: (name: string) => SourceText | undefined;
  /** harden-runner: the cluster-level policy that a job-level policy overrides. */
  clusterPolicy?: SourceText;
  /** Host-configured registries, for formats that validate ecosystem identifiers. */
  ecosystemExtras?: Readonly<Record<string, readonly string[]>>;
}

export interface PolicyFormat {
  id: FormatId;
  /** One line for `--help` and docs. */
  title: string;
  /** Parses and converts; throws PolicyError on any error. May return warnings alongside. */
  parse(input: FormatInput): ParsedPolicy;
}

export interface ParsedPolicy {
  policy: Policy;
  /** Warnings found while reading (lint prints them; check ignores them). */
  warnings: import('../source/diagnostics.js').Diagnostic[];
}
