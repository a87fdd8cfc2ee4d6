/** Hop-by-hop and proxy headers that must not travel past the proxy (RFC 9110 7.6.1). */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Copies headers without hop-by-hop ones, those named in Connection, and any Proxy-*. */
export function endToEndHeaders(
  headers: IncomingHttpHeaders,
  keepUpgrade = false,
): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith('proxy-')) continue;
    if (HOP_BY_HOP.has(lower) && !(keepUpgrade && lower === 'upgrade')) continue;
    if (named.has(lower) && !(keepUpgrade && lower === 'upgrade')) continue;
    out[name] = value;
  }
  if (keepUpgrade) out.connection = 'Upgrade';
  return out;
}

/**
 * The same filter over raw headers (`[name, value, name, value, …]`, as node's `rawHeaders` or
 * undici's response headers), returning a flat list that keeps the names' case and order. No
 * intermediate object: this runs once per forwarded request and once per response.
 */
export function endToEndRawHeaders(raw: readonly (string | Buffer)[]): string[] {
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toString('latin1').toLowerCase() !== 'connection')
      continue;
    named ??= new Set();
    for (const token of raw[i + 1]!.toString('latin1').split(',')) {
      const name = token.trim().toLowerCase();
      if (name) named.add(name);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-') || named?.has(lower)) continue;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  return out;
}
