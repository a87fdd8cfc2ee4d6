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
