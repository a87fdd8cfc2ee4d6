/**
 * The format registry: every format egress reads, by its `--from` name. `loadPolicy` is the one
 * way in for callers; it never lets a raw exception out for bad input (PolicyError only).
 */
import { PolicyError } from '../source/diagnostics.js';
import { ghAwFormat } from './gh-aw/parse.js';
import { hardenRunnerFormat } from './harden-runner/parse.js';
import { nativeFormat } from './native/parse.js';
import { conduktFormat } from './condukt/parse.js';
import { flyFormat } from './fly/parse.js';
import { smokescreenFormat } from './smokescreen/parse.js';
import { srtFormat } from './srt/parse.js';
import { sdsFormat } from './sds/parse.js';
import type { FormatId, FormatInput, ParsedPolicy, PolicyFormat } from './types.js';
import { FORMAT_IDS } from './types.js';

export type { FormatId, FormatInput, ParsedPolicy, PolicyFormat, SourceText } from './types.js';
export { FORMAT_IDS } from './types.js';
export { emitNative } from './native/emit.js';

/** Formats by id. Importers register here as they are added. */
export const FORMATS: Readonly<Record<FormatId, PolicyFormat>> = {
  native: nativeFormat,
  fly: flyFormat,
  condukt: conduktFormat,
  smokescreen: smokescreenFormat,
  srt: srtFormat,
  sds: sdsFormat,
  'gh-aw': ghAwFormat,
  'harden-runner': hardenRunnerFormat,
};

export function isFormatId(id: string): id is FormatId {
  return (FORMAT_IDS as readonly string[]).includes(id);
}

export function loadPolicy(format: FormatId, input: FormatInput): ParsedPolicy {
  const impl = FORMATS[format];
  if (!impl) {
    throw new PolicyError([
      {
        severity: 'error',
        file: input.file,
        line: 1,
        col: 1,
        message: `the "${format}" format is not available yet`,
      },
    ]);
  }
  try {
    return impl.parse(input);
  } catch (err) {
    if (err instanceof PolicyError) throw err;
    // A bug in a parser must still fail closed with a clear message, never allow.
    throw new PolicyError([
      {
        severity: 'error',
        file: input.file,
        line: 1,
        col: 1,
        message: `internal error while reading this ${format} policy: ${(err as Error).message}`,
      },
    ]);
  }
}
