/**
 * Runs a zod schema over a parsed document and turns its issues into positioned, plain-words
 * diagnostics ("unknown field "x" — did you mean "y"?"). The same zod schemas produce the
 * published JSON Schemas, so editors and the validator can never disagree.
 */
import type { z } from 'zod';
import type { Path } from './diagnostics.js';
import type { Reporter } from './reporter.js';
import { didYouMean } from './suggest.js';

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  keys?: string[];
  values?: unknown[];
  errors?: Issue[][];
  minimum?: number | bigint;
  maximum?: number | bigint;
  origin?: string;
}

/** Validates `doc.value` (or the value at `base`) and reports every issue. */
export function validateWithSchema<S extends z.ZodType>(
  schema: S,
  reporter: Reporter,
  base: Path = [],
): z.infer<S> | undefined {
  const value = base.length ? reporter.doc.get(base) : reporter.doc.value;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues as unknown as Issue[]) {
    reportIssue(issue, schema, reporter, base, []);
  }
  return undefined;
}

function reportIssue(
  issue: Issue,
  schema: z.ZodType,
  reporter: Reporter,
  base: Path,
  prefix: Path,
): void {
  const rel = [...prefix, ...(issue.path as (string | number)[])];
  const path = [...base, ...rel];
  const value = reporter.doc.get(path);
  const field = describeField(path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, rel);
      for (const key of issue.keys ?? []) {
        reporter.error(
          [...path, key],
          `unknown field "${key}"${field ? ` in ${field}` : ''}`,
          didYouMean(key, known) ??
            (known.length ? `expected one of ${quoteList(known)}` : undefined),
          { key: true },
        );
      }
      return;
    }
    case 'invalid_type': {
      if (value === undefined) reportMissing(reporter, path);
      else {
        reporter.error(
          path,
          `${field || 'value'} must be ${article(issue.expected ?? 'valid')}, not ${describeValue(value)}`,
        );
      }
      return;
    }
    case 'invalid_value': {
      // A missing literal or enum field ("version", "mode") is reported by zod as a bad value.
      if (value === undefined) {
        reportMissing(reporter, path);
        return;
      }
      const options = (issue.values ?? []).map(String);
      const hint = typeof value === 'string' ? didYouMean(value, options) : undefined;
      reporter.error(
        path,
        `${field || 'value'} must be one of ${quoteList(options)}, not ${describeValue(value)}`,
        hint,
      );
      return;
    }
    case 'invalid_union': {
      const branch = pickUnionBranch(issue.errors ?? []);
      if (branch) {
        for (const sub of branch) reportIssue(sub, schema, reporter, base, rel);
        return;
      }
      reporter.error(
        path,
        `${field || 'value'} has the wrong shape: ${describeValue(value)} is not accepted here`,
      );
      return;
    }
    case 'too_small':
    case 'too_big':
    case 'custom':
    default:
      reporter.error(path, `${field ? `${field}: ` : ''}${plainMessage(issue.message)}`);
  }
}

function reportMissing(reporter: Reporter, path: Path): void {
  const name = String(path[path.length - 1]);
  reporter.error(path.slice(0, -1), `missing required field "${name}"`, `add "${name}: ..." here`, {
    key: true,
  });
}

/** Of a union's branches, the one that failed deepest (the shape the author was going for). */
function pickUnionBranch(branches: Issue[][]): Issue[] | undefined {
  let best: Issue[] | undefined;
  let bestScore = -1;
  for (const branch of branches) {
    const rootTypeMismatch = branch.some((i) => i.code === 'invalid_type' && i.path.length === 0);
    const score = rootTypeMismatch ? 0 : 1 + Math.max(0, ...branch.map((i) => i.path.length));
    if (score > bestScore) {
      best = branch;
      bestScore = score;
    }
  }
  return bestScore > 0 ? best : undefined;
}

interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): ZodDef {
  return (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
}

/** The field names an object schema accepts at `path` (for "did you mean"). */
export function knownKeysAt(schema: z.ZodType, path: Path): string[] {
  const found = new Set<string>();
  const visit = (s: z.ZodType, rest: Path, depth: number): void => {
    if (depth > 40) return;
    const def = defOf(s);
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'nonoptional':
      case 'catch':
        if (def.innerType) visit(def.innerType, rest, depth + 1);
        return;
      case 'pipe':
        if (def.in) visit(def.in, rest, depth + 1);
        return;
      case 'lazy':
        if (def.getter) visit(def.getter(), rest, depth + 1);
        return;
      case 'union':
        for (const option of def.options ?? []) visit(option, rest, depth + 1);
        return;
      case 'array':
        if (rest.length && def.element) visit(def.element, rest.slice(1), depth + 1);
        return;
      case 'record':
        if (rest.length && def.valueType) visit(def.valueType, rest.slice(1), depth + 1);
        return;
      case 'object': {
        const shape = def.shape ?? {};
        if (rest.length === 0) Object.keys(shape).forEach((k) => found.add(k));
        else {
          const next = shape[String(rest[0])];
          if (next) visit(next, rest.slice(1), depth + 1);
        }
        return;
      }
      default:
        return;
    }
  };
  visit(schema, path, 0);
  return [...found];
}

function describeField(path: Path): string {
  for (let i = path.length - 1; i >= 0; i--) {
    const seg = path[i];
    if (typeof seg === 'string') return `"${seg}"`;
  }
  return '';
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    object: 'a mapping (key: value)',
    array: 'a list',
    string: 'text',
    number: 'a number',
    boolean: 'true or false',
    int: 'a whole number',
  };
  return names[expected] ?? expected;
}

function quoteList(values: string[]): string {
  return values.map((v) => `"${v}"`).join(', ');
}

function plainMessage(message: string): string {
  return message
    .replace(/^Invalid input: /, '')
    .replace(/^Too small: /, '')
    .replace(/^Too big: /, '');
}
