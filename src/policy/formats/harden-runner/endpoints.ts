/**
 * `allowed-endpoints`: `host:port` entries separated by spaces or newlines. As in the
 * Harden-Runner agent, an entry without a port means port 443 only; `*.x` is any depth of
 * subdomains of x (the apex excluded). Each entry gets its own line:col, found by walking the
 * value's text in the file, so an error points at the entry itself.
 */
import { ghAwDomainToPattern } from '../../ecosystems/index.js';
import type { Selector } from '../../model.js';
import { parsePortRange } from '../../patterns/ports.js';
import { parseTarget, splitHostPort } from '../../patterns/selector.js';
import type { Diagnostic, Path, SourceLocation } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';

/** Harden-Runner's default port for an entry written without one (agent config.go). */
export const DEFAULT_ENDPOINT_PORT = 443;

interface Token {
  text: string;
  at: SourceLocation;
}

/** Splits a value into entries and finds where each one is written in `fileText`. */
function tokens(value: string, fileText: string, start: SourceLocation): Token[] {
  const lines = fileText.split('\n');
  let offset = 0;
  for (let i = 0; i < start.line - 1 && i < lines.length; i++) offset += lines[i]!.length + 1;
  offset += start.col - 1;
  const out: Token[] = [];
  for (const text of value.split(/\s+/).filter(Boolean)) {
    const found = fileText.indexOf(text, offset);
    if (found === -1) {
      out.push({ text, at: start }); // an escaped or folded spelling: point at the value
      continue;
    }
    offset = found + text.length;
    const before = fileText.slice(0, found);
    const line = before.split('\n').length;
    out.push({ text, at: { file: start.file, line, col: found - before.lastIndexOf('\n') } });
  }
  return out;
}

function report(
  reporter: Reporter,
  severity: Diagnostic['severity'],
  at: SourceLocation,
  message: string,
  hint?: string,
): void {
  reporter.diagnostics.push({ severity, ...at, message, ...(hint ? { hint } : {}) });
}

function convertToken(token: Token, reporter: Reporter): Selector | undefined {
  const { text, at } = token;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const host = text.replace(/^[^:]+:\/\//, '').split(/[/:?#]/)[0];
    report(
      reporter,
      'error',
      at,
      `"${text}" is a URL; allowed-endpoints takes host:port`,
      `write "${host}:443"`,
    );
    return undefined;
  }
  const parts = splitHostPort(text);
  if (!parts) {
    report(
      reporter,
      'error',
      at,
      `"${text}" is not a host:port endpoint`,
      'write e.g. "api.github.com:443"',
    );
    return undefined;
  }
  let port = DEFAULT_ENDPOINT_PORT;
  if (parts.port !== undefined) {
    const range = parsePortRange(parts.port);
    if (!range.ok) {
      report(reporter, 'error', at, `"${text}": ${range.error}`, range.hint);
      return undefined;
    }
    if (range.value.from !== range.value.to) {
      report(
        reporter,
        'error',
        at,
        `"${text}" has a port range; Harden-Runner takes one port per endpoint`,
        'list each port as its own endpoint',
      );
      return undefined;
    }
    port = range.value.from;
  }
  const target = parseTarget(ghAwDomainToPattern(parts.host));
  if (!target.ok) {
    report(reporter, 'error', at, target.error, target.hint);
    return undefined;
  }
  if (target.warning) report(reporter, 'warning', at, target.warning);
  return { ...target.value, ports: [{ from: port, to: port }], source: at };
}

/** Converts the endpoints written at `path` (a string, or a list of strings in policy files). */
export function convertEndpoints(
  value: string | readonly string[],
  reporter: Reporter,
  path: Path,
  fileText: string,
): Selector[] {
  const items =
    typeof value === 'string'
      ? [{ text: value, path }]
      : value.map((text, i) => ({ text, path: [...path, i] }));
  const out: Selector[] = [];
  for (const item of items) {
    for (const token of tokens(item.text, fileText, reporter.location(item.path))) {
      const selector = convertToken(token, reporter);
      if (selector) out.push(selector);
    }
  }
  return out;
}
