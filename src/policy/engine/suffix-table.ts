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

/**
 * Says whether entry `id` fits a destination's transport (`bit`: TCP 1, UDP 2) and port. An
 * object with a method rather than a closure, so a lookup allocates nothing.
 */
export interface EntryFilter {
  accepts(id: number, bit: number, port: number): boolean;
}

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

/** Marks a key whose hash another key shares: a probe must compare text and keep looking. */
const SHARED_HASH = 1 << 7;

/**
 * The hash of `text[start, end)` read right to left (FNV-1a on UTF-16 units). Read that way, a
 * name's suffixes are hashed in one pass: at each dot the running value is the hash of the
 * suffix after it.
 */
export function suffixHash(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = end - 1; i >= start; i--) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

export class SuffixTable {
  /** Fixed text → index; every proper suffix of a key is present too (maybe with no entries). */
  private readonly keys = new Map<string, number>();
  /** While building: ids by index * KINDS + kind. */
  private lists: Array<number[] | undefined> = [];
  private readonly left = new Map<number, LeftPattern[]>();
  private dirty = false;
  /** Sealed form: key text by index, for verifying a hash hit. */
  private texts: string[] = [];
  /** The left patterns by index (null for most), sorted by id. */
  private leftByIndex: Array<LeftPattern[] | null> = [];
  /** Which kinds each index has (bit per kind), plus SHARED_HASH. */
  private masks = new Uint8Array(0);
  /** Open addressing, two words per slot: the key's suffixHash, then index + 1 (0: empty). */
  private slots = new Int32Array(2);
  private slotBits = 0;
  /** Ids by index * KINDS + kind, CSR style. */
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
    const leftByIndex = new Array<LeftPattern[] | null>(count).fill(null);
    for (const [index, list] of this.left) leftByIndex[index] = list.sort((a, b) => a.id - b.id);
    this.leftByIndex = leftByIndex;
    // At most half the slots used: probes stay short.
    let bits = 1;
    while (1 << bits < count * 2) bits++;
    const slots = new Int32Array(2 << bits);
    const texts = new Array<string>(count);
    const wrap = (1 << bits) - 1;
    for (const [text, index] of this.keys) {
      texts[index] = text;
      const h = suffixHash(text, 0, text.length);
      let slot = Math.imul(h, 0x9e3779b1) >>> (32 - bits);
      while (slots[2 * slot + 1] !== 0) {
        if (slots[2 * slot] === h) {
          masks[index]! |= SHARED_HASH;
          masks[slots[2 * slot + 1]! - 1]! |= SHARED_HASH;
        }
        slot = (slot + 1) & wrap;
      }
      slots[2 * slot] = h;
      slots[2 * slot + 1] = index + 1;
    }
    this.texts = texts;
    this.masks = masks;
    this.slots = slots;
    this.slotBits = bits;
    this.offsets = offsets;
    this.ids = ids;
    this.dirty = false;
  }

  /**
   * The index of the key with suffixHash `h`, or -1 when there is none. When no other key
   * shares the hash, the text is not compared: the suffix is either that key or no key at all,
   * and firstMatch compares only when an entry under it would change the answer. Keys that
   * share a hash are compared here, to pick the right one.
   */
  private find(h: number, name: string, start: number): number {
    const slots = this.slots;
    const wrap = (1 << this.slotBits) - 1;
    for (let slot = Math.imul(h, 0x9e3779b1) >>> (32 - this.slotBits); ; slot = (slot + 1) & wrap) {
      const stored = slots[2 * slot + 1]!;
      if (stored === 0) return -1;
      if (slots[2 * slot] !== h) continue;
      const index = stored - 1;
      if ((this.masks[index]! & SHARED_HASH) === 0 || this.isKey(index, name, start))
        return index;
    }
  }

  /** Whether `name.substring(start)` is the key at `index`. */
  private isKey(index: number, name: string, start: number): boolean {
    const text = this.texts[index]!;
    return text.length === name.length - start && name.startsWith(text, start);
  }

  /** The smallest accepted id below `best` among the patterns that match `name`; else `best`. */
  firstMatch(name: string, filter: EntryFilter, bit: number, port: number, best: number): number {
    if (this.dirty) this.seal();
    const firstDot = name.indexOf('.');
    // Walk right to left: at each dot (and at the start), `h` is the hash of what follows.
    let h = 0x811c9dc5;
    for (let i = name.length - 1; i >= -1; i--) {
      const c = i < 0 ? 46 : name.charCodeAt(i);
      if (c !== 46) {
        h = Math.imul(h ^ c, 0x01000193);
        continue;
      }
      const index = this.find(h, name, i + 1);
      if (index < 0) return best;
      const mask = this.masks[index]! & ~SHARED_HASH;
      if (mask !== 0) {
        const before = best;
        const base = index * KINDS;
        if (mask & (1 << SUBTREE)) best = this.scan(base + SUBTREE, filter, bit, port, best);
        if (i < 0) {
          if (mask & (1 << EXACT)) best = this.scan(base + EXACT, filter, bit, port, best);
        } else {
          if (mask & (1 << DEEP)) best = this.scan(base + DEEP, filter, bit, port, best);
          if (mask & (1 << STAR) && i === firstDot)
            best = this.scan(base + STAR, filter, bit, port, best);
          if (mask & (1 << LEFT))
            best = this.scanLeft(index, name.substring(0, i), filter, bit, port, best);
        }
        // A hash hit that is not the key: the suffix is no key, so no longer one is either.
        if (best !== before && !this.isKey(index, name, i + 1)) return before;
      }
      if (i === 0) return best; // an empty leftmost label, never normalised
      h = Math.imul(h ^ 46, 0x01000193);
    }
    return best;
  }

  private scan(slot: number, filter: EntryFilter, bit: number, port: number, best: number): number {
    const ids = this.ids;
    for (let i = this.offsets[slot]!, end = this.offsets[slot + 1]!; i < end; i++) {
      const id = ids[i]!;
      if (id >= best) return best;
      if (filter.accepts(id, bit, port)) return id;
    }
    return best;
  }

  private scanLeft(
    index: number,
    leftPart: string,
    filter: EntryFilter,
    bit: number,
    port: number,
    best: number,
  ): number {
    const labels = leftPart.split('.');
    for (const p of this.leftByIndex[index]!) {
      if (p.id >= best) return best;
      const n = p.tests.length;
      if (p.deep ? labels.length <= n : labels.length !== n) continue;
      const offset = labels.length - n;
      let ok = true;
      for (let i = 0; i < n && ok; i++) ok = p.tests[i]!(labels[offset + i]!);
      if (ok && filter.accepts(p.id, bit, port)) return p.id;
    }
    return best;
  }
}
