/**
 * Pure parsers of what the bridge reads from nftables (`nft -j list ...`): the drop sets of UDP
 * that was not let out (with packet counts; `newDrops` tells what changed since the last read,
 * for periodic reports), and the maps of original destinations (source port → original
 * address, source port → original port; rules/netns-rules.ts) that the UDP relay and the
 * catch-all TCP entrance look connections up in. The bridge runs nft and passes the output
 * here. Runs in the bridge: no imports but types.
 */
import type { DroppedUdp, OriginEntry } from '../protocol.js';

interface NftSetElement {
  elem?: { val?: { concat?: unknown[] }; counter?: { packets?: number } };
  concat?: unknown[];
}

/**
 * Parses an `nft -j list set` or `nft -j list table` document; with `names`, only the sets so
 * named count. Unknown shapes yield nothing.
 */
export function parseDroppedSet(json: string, names?: ReadonlySet<string>): DroppedUdp[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return [];
  }
  const items = (doc as { nftables?: unknown[] }).nftables ?? [];
  const out: DroppedUdp[] = [];
  for (const item of items) {
    const set = (item as { set?: { name?: string; elem?: unknown[] } }).set;
    if (names && !names.has(set?.name ?? '')) continue;
    const elems = set?.elem ?? [];
    for (const raw of elems) {
      const e = raw as NftSetElement;
      const concat = e.elem?.val?.concat ?? e.concat;
      if (!Array.isArray(concat) || concat.length !== 2) continue;
      const [ip, port] = concat;
      if (typeof ip !== 'string' || typeof port !== 'number') continue;
      out.push({ ip, port, packets: e.elem?.counter?.packets ?? 1 });
    }
  }
  return out;
}

const keyOf = (d: DroppedUdp) => `${d.ip}|${d.port}`;

/** Entries that are new or whose count grew since `previous` (cumulative counts). */
export function newDrops(
  previous: readonly DroppedUdp[],
  current: readonly DroppedUdp[],
): DroppedUdp[] {
  const seen = new Map(previous.map((d) => [keyOf(d), d.packets]));
  return current.filter((d) => (seen.get(keyOf(d)) ?? 0) < d.packets);
}

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
export function parseOrigins(addrJson: string, portJson: string): OriginEntry[] {
  const addresses = mapEntries(addrJson);
  const ports = mapEntries(portJson);
  const out: OriginEntry[] = [];
  for (const [sport, ip] of addresses) {
    const port = ports.get(sport);
    if (typeof ip === 'string' && typeof port === 'number') out.push({ sport, ip, port });
  }
  return out;
}
