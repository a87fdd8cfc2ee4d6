/**
 * The suffix table: host patterns filed under their fixed right-hand part (`example.com` for
 * `example.com`, `*.example.com`, `**.example.com`, `api-*.example.com` and includeSubdomains
 * entries). A lookup probes the name's suffixes from the right (`com`, `example.com`,
 * `api.example.com`) and stops at the first suffix that no pattern continues.
 *
 * At 100k entries a lookup is bound by memory, not by instructions, so the sealed form is laid
 * out for few cache misses and no allocation:
 * - the name is hashed once, right to left; at each dot the running value is the hash of the
 *   suffix after it, so no substring is made;
 * - an open-addressing table of (hash, record) pairs in one Int32Array;
 * - one record per key with entries, in one Int32Array: a header, the candidates of each kind
 *   with their entry words (entry-words.ts) inline, then the key's text for verification.
 */
import { ANY_PORT, WORDS_PER_ENTRY } from './entry-words.js';

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
/** Slot value of a key with no entries and a hash of its own: present, nothing to scan. */
const EMPTY_KEY = -1;
/** Record header: flags (kind bits, SHARED_HASH), key index, text length, text offset, counts. */
const FLAGS = 0;
const KEY_INDEX = 1;
const TEXT_LENGTH = 2;
const TEXT_AT = 3;
const COUNTS = 4;
const HEADER = COUNTS + KINDS;
/** Each candidate: its id, then its entry words. */
const CANDIDATE = 1 + WORDS_PER_ENTRY;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const FIBONACCI = 0x9e3779b1;

/** The hash of `text` read right to left (FNV-1a on UTF-16 units), as firstMatch computes it. */
export function suffixHash(text: string): number {
  let h = FNV_OFFSET;
  for (let i = text.length - 1; i >= 0; i--) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

export class SuffixTable {
  /** Fixed text → index; every proper suffix of a key is present too (maybe with no entries). */
  private readonly keys = new Map<string, number>();
  /** While building: ids by index * KINDS + kind. */
  private lists: Array<number[] | undefined> = [];
  private readonly left = new Map<number, LeftPattern[]>();
  private dirty = false;
  /** Sealed: (hash, record offset + 1 or EMPTY_KEY) pairs; 0 marks a free slot. */
  private slots = new Int32Array(2);
  private slotBits = 0;
  private records = new Int32Array(0);
  /** The left patterns by key index (null for most), sorted by id. */
  private leftByIndex: Array<LeftPattern[] | null> = [];

  /** @param words every entry's words by id (SelectorIndex), read when sealing */
  constructor(private readonly words: readonly number[]) {}

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

  /** Builds the sealed form; ids sorted so that scans can stop early. Called again after adds. */
  seal(): void {
    const count = this.keys.size;
    const texts = new Array<string>(count);
    const hashes = new Int32Array(count);
    const flags = new Uint8Array(count);
    for (const [text, index] of this.keys) {
      texts[index] = text;
      hashes[index] = suffixHash(text);
    }
    // At most half the slots used: probes stay short.
    let bits = 1;
    while (1 << bits < count * 2) bits++;
    const slots = new Int32Array(2 << bits);
    const wrap = (1 << bits) - 1;
    const slotOf = new Int32Array(count);
    for (let index = 0; index < count; index++) {
      const h = hashes[index]!;
      let slot = Math.imul(h, FIBONACCI) >>> (32 - bits);
      while (slots[2 * slot + 1] !== 0) {
        if (slots[2 * slot] === h) {
          flags[index]! |= SHARED_HASH;
          flags[slotOf[slots[2 * slot + 1]! - 1]!]! |= SHARED_HASH;
        }
        slot = (slot + 1) & wrap;
      }
      slots[2 * slot] = h;
      slots[2 * slot + 1] = index + 1; // replaced by the record reference below
      slotOf[index] = slot;
    }
    // Record sizes, then the records.
    let size = 0;
    for (let index = 0; index < count; index++) {
      let n = 0;
      for (let kind = 0; kind < KINDS; kind++) {
        const list = this.lists[index * KINDS + kind];
        if (list !== undefined) {
          flags[index]! |= 1 << kind;
          n += list.length;
        }
      }
      if (flags[index] !== 0) size += HEADER + n * CANDIDATE + ((texts[index]!.length + 1) >> 1);
    }
    const records = new Int32Array(size);
    const words = this.words;
    let at = 0;
    for (let index = 0; index < count; index++) {
      const slot = slotOf[index]!;
      if (flags[index] === 0) {
        slots[2 * slot + 1] = EMPTY_KEY;
        continue;
      }
      slots[2 * slot + 1] = at + 1;
      const record = at;
      records[record + FLAGS] = flags[index]!;
      records[record + KEY_INDEX] = index;
      at += HEADER;
      for (let kind = 0; kind < KINDS; kind++) {
        const list = this.lists[index * KINDS + kind];
        if (list === undefined) continue;
        list.sort((a, b) => a - b);
        records[record + COUNTS + kind] = list.length;
        for (const id of list) {
          records[at] = id;
          for (let w = 0; w < WORDS_PER_ENTRY; w++)
            records[at + 1 + w] = words[id * WORDS_PER_ENTRY + w]!;
          at += CANDIDATE;
        }
      }
      const text = texts[index]!;
      records[record + TEXT_LENGTH] = text.length;
      records[record + TEXT_AT] = at;
      for (let i = 0; i < text.length; i++)
        records[at + (i >> 1)]! |= text.charCodeAt(i) << ((i & 1) << 4);
      at += (text.length + 1) >> 1;
    }
    const leftByIndex = new Array<LeftPattern[] | null>(count).fill(null);
    for (const [index, list] of this.left) leftByIndex[index] = list.sort((a, b) => a.id - b.id);
    this.leftByIndex = leftByIndex;
    this.slots = slots;
    this.slotBits = bits;
    this.records = records;
    this.dirty = false;
  }

  /**
   * The slot value (record offset + 1, or EMPTY_KEY) of the key with hash `h`, or 0 when there
   * is none. When no other key shares the hash, the text is not compared: the suffix is either
   * that key or no key at all, and firstMatch compares only when an entry under it would change
   * the answer. Keys that share a hash are compared here, to pick the right one.
   */
  private find(h: number, name: string, start: number): number {
    const slots = this.slots;
    const wrap = (1 << this.slotBits) - 1;
    for (let slot = Math.imul(h, FIBONACCI) >>> (32 - this.slotBits); ; slot = (slot + 1) & wrap) {
      const ref = slots[2 * slot + 1]!;
      if (ref === 0) return 0;
      if (slots[2 * slot] !== h) continue;
      if (ref === EMPTY_KEY) return ref;
      const record = ref - 1;
      if ((this.records[record]! & SHARED_HASH) === 0 || this.isKey(record, name, start))
        return ref;
    }
  }

  /** Whether `name.substring(start)` is the text of the key whose record starts at `record`. */
  private isKey(record: number, name: string, start: number): boolean {
    const records = this.records;
    const length = records[record + TEXT_LENGTH]!;
    if (length !== name.length - start) return false;
    const at = records[record + TEXT_AT]!;
    for (let i = 0; i < length; i++) {
      const unit = (records[at + (i >> 1)]! >>> ((i & 1) << 4)) & 0xffff;
      if (unit !== name.charCodeAt(start + i)) return false;
    }
    return true;
  }

  /**
   * The smallest accepted id below `best` among the patterns that match `name`; else `best`.
   * `filter` is asked only about entries with several port ranges and about left patterns.
   */
  firstMatch(name: string, filter: EntryFilter, bit: number, port: number, best: number): number {
    return this.walk(name, filter, bit, port, best, null);
  }

  /** Every entry id filed under a pattern that matches `name`, whatever its ports. */
  collect(name: string, out: number[]): void {
    const none: EntryFilter = { accepts: () => false };
    this.walk(name, none, 0, 0, Number.MAX_SAFE_INTEGER, out);
  }

  /** firstMatch; with `out`, every candidate is pushed there and none accepted. */
  private walk(
    name: string,
    filter: EntryFilter,
    bit: number,
    port: number,
    best: number,
    out: number[] | null,
  ): number {
    if (this.dirty) this.seal();
    // Walk right to left: at each dot (and at the start), `h` is the hash of what follows.
    let h = FNV_OFFSET;
    for (let i = name.length - 1; i >= -1; i--) {
      const c = i < 0 ? 46 : name.charCodeAt(i);
      if (c !== 46) {
        h = Math.imul(h ^ c, FNV_PRIME);
        continue;
      }
      const ref = this.find(h, name, i + 1);
      if (ref === 0) return best;
      if (ref !== EMPTY_KEY) {
        const record = ref - 1;
        const mask = this.records[record]!;
        const before = best;
        const pushed = out === null ? 0 : out.length;
        if (mask & (1 << SUBTREE)) best = this.scan(record, SUBTREE, filter, bit, port, best, out);
        if (i < 0) {
          if (mask & (1 << EXACT)) best = this.scan(record, EXACT, filter, bit, port, best, out);
        } else {
          if (mask & (1 << DEEP)) best = this.scan(record, DEEP, filter, bit, port, best, out);
          // `*.fixed`: one label left, so no dot before this one.
          if (mask & (1 << STAR) && (i === 0 || name.lastIndexOf('.', i - 1) === -1))
            best = this.scan(record, STAR, filter, bit, port, best, out);
          if (mask & (1 << LEFT)) {
            const index = this.records[record + KEY_INDEX]!;
            best = this.scanLeft(index, name.substring(0, i), filter, bit, port, best, out);
          }
        }
        // A hash hit that is not the key: the suffix is no key, so no longer one is either.
        const changed = best !== before || (out !== null && out.length !== pushed);
        if (changed && !this.isKey(record, name, i + 1)) {
          if (out !== null) out.length = pushed;
          return before;
        }
      }
      if (i === 0) return best; // an empty leftmost label, never normalised
      h = Math.imul(h ^ 46, FNV_PRIME);
    }
    return best;
  }

  /** Candidates of one kind in a record: the first whose words (or filter) accept. */
  private scan(
    record: number,
    kind: number,
    filter: EntryFilter,
    bit: number,
    port: number,
    best: number,
    out: number[] | null,
  ): number {
    const records = this.records;
    let at = record + HEADER;
    for (let k = 0; k < kind; k++) at += records[record + COUNTS + k]! * CANDIDATE;
    const end = at + records[record + COUNTS + kind]! * CANDIDATE;
    for (; at < end; at += CANDIDATE) {
      const id = records[at]!;
      if (id >= best) return best;
      if (out !== null) {
        out.push(id);
        continue;
      }
      if ((records[at + 1]! & bit) === 0) continue;
      const from = records[at + 2]!;
      if (from === ANY_PORT) return id;
      if (from >= 0 ? port >= from && port <= records[at + 3]! : filter.accepts(id, bit, port))
        return id;
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
    out: number[] | null,
  ): number {
    const labels = leftPart.split('.');
    for (const p of this.leftByIndex[index]!) {
      if (p.id >= best) return best;
      const n = p.tests.length;
      if (p.deep ? labels.length <= n : labels.length !== n) continue;
      const offset = labels.length - n;
      let ok = true;
      for (let i = 0; i < n && ok; i++) ok = p.tests[i]!(labels[offset + i]!);
      if (ok && out !== null) out.push(p.id);
      else if (ok && filter.accepts(p.id, bit, port)) return p.id;
    }
    return best;
  }
}
