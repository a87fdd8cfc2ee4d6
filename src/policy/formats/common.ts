/**
 * Helpers every format uses to turn raw values into model parts, reporting errors at the path
 * they came from. Keeping them here means an entry like "api.example.com:443" is read the same
 * way by every importer.
 */
import { isKnownEcosystem, knownEcosystems, type EcosystemExtras } from '../ecosystems/index.js';
import type { PortRange, Selector, TransportMatch } from '../model.js';
import { parsePortRange } from '../patterns/ports.js';
import { parseSelectorString, parseTarget } from '../patterns/selector.js';
import type { Path } from '../source/diagnostics.js';
import { SourceDocument } from '../source/document.js';
import { Reporter } from '../source/reporter.js';
import { didYouMean } from '../source/suggest.js';
import { PolicyError } from '../source/diagnostics.js';
import type { SourceText } from './types.js';

/** Parses YAML/JSON text; throws PolicyError on syntax errors and duplicate keys. */
export function openDocument(source: SourceText, lineOffset = 0): Reporter {
  const { doc, diagnostics } = SourceDocument.parse(source.text, { file: source.file, lineOffset });
  if (!doc || diagnostics.some((d) => d.severity === 'error')) throw new PolicyError(diagnostics);
  const reporter = new Reporter(doc);
  reporter.diagnostics.push(...diagnostics);
  return reporter;
}

export function convertPorts(
  raw: number | string | Array<number | string> | undefined,
  reporter: Reporter,
  path: Path,
): PortRange[] | undefined {
  if (raw === undefined) return undefined;
  const list = Array.isArray(raw) ? raw : [raw];
  const out: PortRange[] = [];
  list.forEach((item, i) => {
    const itemPath = Array.isArray(raw) ? [...path, i] : path;
    // "80,443" in one string is a common shorthand.
    const pieces = typeof item === 'string' && item.includes(',') ? item.split(',') : [item];
    for (const piece of pieces) {
      const parsed = parsePortRange(piece);
      if (parsed.ok) out.push(parsed.value);
      else reporter.error(itemPath, parsed.error, parsed.hint);
    }
  });
  return out;
}

export function checkEcosystem(
  name: string,
  reporter: Reporter,
  path: Path,
  extras: EcosystemExtras = {},
): boolean {
  if (isKnownEcosystem(name, extras)) return true;
  const known = knownEcosystems(extras);
  reporter.error(
    path,
    `unknown ecosystem identifier "${name}"`,
    didYouMean(name, known) ?? `known identifiers: ${known.join(', ')}`,
  );
  return false;
}

export interface SelectorDefaults {
  ports?: PortRange[];
  transport?: TransportMatch;
}

/** A destination written as text ("host", "host:port", CIDR, "ecosystem:x"). */
export function selectorFromString(
  text: string,
  reporter: Reporter,
  path: Path,
  defaults: SelectorDefaults = {},
  extras: EcosystemExtras = {},
): Selector | undefined {
  const parsed = parseSelectorString(text);
  if (!parsed.ok) {
    reporter.error(path, parsed.error, parsed.hint);
    return undefined;
  }
  if (parsed.warning) reporter.warn(path, parsed.warning);
  const selector: Selector = { ...parsed.value, source: reporter.location(path) };
  if (
    selector.ecosystem !== undefined &&
    !checkEcosystem(selector.ecosystem, reporter, path, extras)
  )
    return undefined;
  if (!selector.ports && defaults.ports) selector.ports = defaults.ports;
  if (defaults.transport) selector.transport = defaults.transport;
  return selector;
}

/** A host or IP target alone (no port), for formats that keep ports elsewhere. */
export function targetSelector(text: string, reporter: Reporter, path: Path): Selector | undefined {
  const parsed = parseTarget(text);
  if (!parsed.ok) {
    reporter.error(path, parsed.error, parsed.hint);
    return undefined;
  }
  if (parsed.warning) reporter.warn(path, parsed.warning);
  return { ...parsed.value, source: reporter.location(path) };
}

/**
 * Reports each redact pattern that is not a valid JavaScript regular expression, at its place in
 * the `redact` list. `hintFor` may add a hint (say, for a syntax the source format allowed).
 */
export function checkRedactPatterns(
  patterns: readonly string[] | undefined,
  reporter: Reporter,
  hintFor: (pattern: string) => string | undefined = () => undefined,
): void {
  patterns?.forEach((pattern, i) => {
    try {
      new RegExp(pattern);
    } catch (err) {
      reporter.error(
        ['redact', i],
        `"${pattern}" is not a valid regular expression: ${(err as Error).message}`,
        hintFor(pattern),
      );
    }
  });
}
