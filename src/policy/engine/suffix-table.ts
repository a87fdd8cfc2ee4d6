/**
 * The suffix table: host patterns filed under their fixed right-hand part (`example.com` for
 * `example.com`, `*.example.com`, `**.example.com`, `api-*.example.com` and includeSubdomains
 * entries). A lookup probes the name's suffixes from the right (`com`, `example.com`,
 * `api.example.com`), one Map access per label, and stops at the first suffix that no pattern
 * continues.
 *
 * Why not a trie of per-label Maps: at 100k entries the lookup is bound by memory, not by
 * instructions. A chain of nodes and Maps costs several cache misses per label; here each probe
 * is one Map access whose value is a small integer, and what hangs off it lives in flat typed
 * arrays (a kind mask, then entry ids), touched only when the mask says there is something.
 */

/** Accepts an entry id if its port/transport restrictions fit the destination. */
export type EntryFilter = (entry: number) => boolean;

/** How a pattern extends its fixed part. */
export const EXACT = 0; // the name is the fixed part
export const SUBTREE = 1; // includeSubdomains: the fixed part or any name below it
export const DEEP = 2; // `**.fixed`: one or more labels below
export const STAR = 3; // `*.fixed`: exactly one label below
const LEFT = 4; // globs and other wildcards left of the fixed part: tested label by label
const KINDS = 5;

export type SuffixKind = typeof EXACT | typeof SUBTREE | typeof DEEP | typeof STAR;

/** Tests for one label of a pattern: `*`, a glob like `api-*`, or a fixed label. */
export function globTester(label: string): (candidate: string) => boolean {
  const parts = label.split('*');
  if (parts.length === 2) {
    const [prefix, suffix] = parts as [string, string];
    const min = prefix.length + suffix.length;
    return (c) => c.length >= min && c.startsWith(prefix) && c.endsWith(suffix);
  }
  const source = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('[^.]*');
  const regex = new RegExp(`^${source}$`);
  return (c) => regex.test(c);
}

function labelTester(label: string): (candidate: string) => boolean {
  if (label === '*') return () => true;
  if (label.includes('*')) return globTester(label);
  return (c) => c === label;
}

/** A pattern with wildcards left of its fixed part other than a lone leading `*` or `**`. */
interface LeftPattern {
  id: number;
  /** Leading `**`: one or more labels in front of `tests`. */
  deep: boolean;
  /** One test per label, in written order. */
  tests: Array<(label: string) => boolean>;
}

export class SuffixTable {
  /** Fixed text → index; every proper suffix of a key is present too (maybe with no entries). */
  private readonly keys = new Map<string, number>();
  /** While building: ids by index * KINDS + kind. */
  private lists: Array<number[] | undefined> = [];
  private readonly left = new Map<number, LeftPattern[]>();
  private dirty = false;
  /** Sealed form: which kinds each index has (bit per kind), and the ids, CSR style. */
  private masks = new Uint8Array(0);
  private offsets = new Int32Array(1);
  private ids = new Int32Array(0);

  /** Files entry `id` under `fixed` (labels in written order, joined by dots). */
  add(fixed: string, kind: SuffixKind, id: number): void {
    const slot = this.indexOf(fixed) * KINDS + kind;
    (this.lists[slot] ??= []).push(id);
  }

  /** Files a pattern whose part left of `fixed` holds globs or several wildcard labels. */
  addLeft(fixed: string, leftLabels: readonly string[], id: number): void {
    const index = this.indexOf(fixed);
    const deep = leftLabels[0] === '**';
    const tests = (deep ? leftLabels.slice(1) : leftLabels).map(labelTester);
    const list = this.left.get(index) ?? [];
    list.push({ id, deep, tests });
    this.left.set(index, list);
    (this.lists[index * KINDS + LEFT] ??= []).push(id);
  }

  private indexOf(fixed: string): number {
    this.dirty = true;
    let index = this.keys.get(fixed);
    if (index !== undefined) return index;
    index = this.keys.size;
    this.keys.set(fixed, index);
    // Every proper suffix gets an index too, so a lookup may stop at the first one missing.
    // Once one is present, all shorter ones are.
    for (let dot = fixed.indexOf('.'); dot !== -1; dot = fixed.indexOf('.', dot + 1)) {
      const suffix = fixed.substring(dot + 1);
      if (this.keys.has(suffix)) break;
      this.keys.set(suffix, this.keys.size);
    }
    return index;
  }

  /** Builds the flat arrays; ids sorted so that scans can stop early. Called again after adds. */
  seal(): void {
    const count = this.keys.size;
    const masks = new Uint8Array(count);
    const offsets = new Int32Array(count * KINDS + 1);
    let total = 0;
    for (let slot = 0; slot < count * KINDS; slot++) {
      const list = this.lists[slot];
      if (list !== undefined) {
        list.sort((a, b) => a - b);
        total += list.length;
        masks[Math.floor(slot / KINDS)]! |= 1 << (slot % KINDS);
      }
      offsets[slot + 1] = total;
    }
    const ids = new Int32Array(total);
    for (let slot = 0; slot < count * KINDS; slot++) {
      const list = this.lists[slot];
      if (list !== undefined) ids.set(list, offsets[slot]!);
    }
    for (const list of this.left.values()) list.sort((a, b) => a.id - b.id);
    this.masks = masks;
    this.offsets = offsets;
    this.ids = ids;
    this.dirty = false;
  }

  /** The smallest accepted id below `best` among the patterns that match `name`; else `best`. */
  firstMatch(name: string, accept: EntryFilter, best: number): number {
    if (this.dirty) this.seal();
    const firstDot = name.indexOf('.');
    let dot = name.lastIndexOf('.');
    for (;;) {
      const whole = dot === -1;
      const index = this.keys.get(whole ? name : name.substring(dot + 1));
      if (index === undefined) return best;
      const mask = this.masks[index]!;
      if (mask !== 0) {
        if (mask & (1 << SUBTREE)) best = this.scan(index * KINDS + SUBTREE, accept, best);
        if (whole) {
          if (mask & (1 << EXACT)) best = this.scan(index * KINDS + EXACT, accept, best);
        } else {
          if (mask & (1 << DEEP)) best = this.scan(index * KINDS + DEEP, accept, best);
          if (mask & (1 << STAR) && dot === firstDot)
            best = this.scan(index * KINDS + STAR, accept, best);
          if (mask & (1 << LEFT)) best = this.scanLeft(index, name.substring(0, dot), accept, best);
        }
      }
      if (whole || dot === 0) return best; // dot 0: an empty leftmost label, never normalised
      dot = name.lastIndexOf('.', dot - 1);
    }
  }

  private scan(slot: number, accept: EntryFilter, best: number): number {
    const ids = this.ids;
    for (let i = this.offsets[slot]!, end = this.offsets[slot + 1]!; i < end; i++) {
      const id = ids[i]!;
      if (id >= best) return best;
      if (accept(id)) return id;
    }
    return best;
  }

  private scanLeft(index: number, leftPart: string, accept: EntryFilter, best: number): number {
    const labels = leftPart.split('.');
    for (const p of this.left.get(index)!) {
      if (p.id >= best) return best;
      const n = p.tests.length;
      if (p.deep ? labels.length <= n : labels.length !== n) continue;
      const offset = labels.length - n;
      let ok = true;
      for (let i = 0; i < n && ok; i++) ok = p.tests[i]!(labels[offset + i]!);
      if (ok && accept(p.id)) return p.id;
    }
    return best;
  }
}
