/**
 * Reads back what the sandbox's nftables sets recorded about dropped UDP (`nft -j list set`)
 * and turns it into destinations with packet counts. Pure: the bridge runs nft and passes the
 * output here; `newDrops` tells what changed since the last read (for periodic reports).
 */
import type { DroppedUdp } from './protocol.js';

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
