/**
 * Redaction of inspected traffic, applied before any event is built so that a secret never
 * reaches a listener, the audit log or the control plane. Credentials headers are always
 * replaced whole; the policy's `redact` patterns are applied to every other header value, to
 * the URL and to captured bodies.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export const REDACTED = '[REDACTED]';

/** Headers whose values are always replaced whole, whatever the policy says. */
export const ALWAYS_REDACTED_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
];

export type RecordedHeaders = Record<string, string | string[]>;

export class Redactor {
  private readonly patterns: RegExp[];

  /** `patterns` were validated when the policy was parsed; they match anywhere, globally. */
  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map((p) => new RegExp(p, 'g'));
  }

  text(value: string): string {
    let out = value;
    for (const pattern of this.patterns) {
      pattern.lastIndex = 0;
      out = out.replace(pattern, REDACTED);
    }
    return out;
  }

  headers(headers: IncomingHttpHeaders | OutgoingHttpHeaders): RecordedHeaders {
    const out: RecordedHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      const always = ALWAYS_REDACTED_HEADERS.includes(name.toLowerCase());
      const one = (v: string) => (always ? REDACTED : this.text(v));
      out[name] = Array.isArray(value) ? value.map((v) => one(String(v))) : one(String(value));
    }
    return out;
  }
}
