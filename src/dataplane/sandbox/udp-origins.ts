/**
 * Reads back the UDP relay's original destinations: two `nft -j list map` documents (source
 * port → original address, source port → original port, netns-rules.ts) joined into one list.
 * Pure: the bridge runs nft and passes the output here. Imported by the bridge: no imports but
 * types.
 */
import type { UdpOrigin } from './protocol.js';

/** `[key, value]` pairs of one map listing; elements with a timeout wrap the key. */
function mapEntries(json: string): Map<number, unknown> {
  const out = new Map<number, unknown>();
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return out;
  }
  for (const item of (doc as { nftables?: unknown[] }).nftables ?? []) {
    const elems = (item as { map?: { elem?: unknown[] } }).map?.elem ?? [];
    for (const raw of elems) {
      if (!Array.isArray(raw) || raw.length !== 2) continue;
      const [key, value] = raw as [unknown, unknown];
      const k = typeof key === 'number' ? key : (key as { elem?: { val?: unknown } }).elem?.val;
      if (typeof k === 'number') out.set(k, value);
    }
  }
  return out;
}

/** Joins the address and port maps; a source port missing from either is left out. */
export function parseOrigins(addrJson: string, portJson: string): UdpOrigin[] {
  const addresses = mapEntries(addrJson);
  const ports = mapEntries(portJson);
  const out: UdpOrigin[] = [];
  for (const [sport, ip] of addresses) {
    const port = ports.get(sport);
    if (typeof ip === 'string' && typeof port === 'number') out.push({ sport, ip, port });
  }
  return out;
}
