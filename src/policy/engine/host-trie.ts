/**
 * Host pattern lookup: cost grows with the number of labels in the name, never with the number
 * of rules. Entry ids are assigned in rule order, so "first match wins" is "smallest id that
 * passes the port and transport check", whichever way it was found.
 *
 * Nearly every pattern has a fixed right-hand part and goes to the suffix table
 * (suffix-table.ts). What is left (patterns with no fixed part, such as a lone `api-*`, and
 * wildcard patterns marked includeSubdomains) lives in a reversed-label trie: each pattern stored
 * under its labels read from the right (`com` → `example` → ...).
 */
import {
  DEEP,
  EXACT,
  STAR,
  SUBTREE,
  SuffixTable,
  globTester,
  type EntryFilter,
} from './suffix-table.js';

export type { EntryFilter } from './suffix-table.js';

class TrieNode {
  children: Map<string, TrieNode> | null = null;
  /** `*` as a whole label: any single label. */
  star: TrieNode | null = null;
  /** Labels like `api-*`: tested one by one (rare). */
  globs: Array<{ test: (label: string) => boolean; node: TrieNode; text: string }> | null = null;
  /** Patterns that end exactly here. */
  exact: number[] | null = null;
  /** `**` here: one or more further labels. */
  deep: number[] | null = null;
  /** includeSubdomains here: zero or more further labels. */
  subtree: number[] | null = null;
}

export type TrieTerminal = 'exact' | 'deep' | 'subtree';

export class HostTrie {
  private readonly root = new TrieNode();
  private readonly suffixes: SuffixTable;
  private trieUsed = false;
  private size = 0;

  /** @param words every entry's words by id (entry-words.ts) */
  constructor(words: readonly number[]) {
    this.suffixes = new SuffixTable(words);
  }

  get entryCount(): number {
    return this.size;
  }

  /**
   * Adds a pattern given as labels from the right. A leading `**` (last in the reversed list)
   * becomes a `deep` terminal; `subtree` marks includeSubdomains.
   */
  add(reversedLabels: readonly string[], entry: number, terminal: TrieTerminal = 'exact'): void {
    this.size++;
    if (this.addSuffix(reversedLabels, entry, terminal)) return;
    this.trieUsed = true;
    let node = this.root;
    let labels = reversedLabels;
    if (labels[labels.length - 1] === '**') {
      labels = labels.slice(0, -1);
      terminal = 'deep';
    }
    for (const label of labels) node = this.step(node, label);
    const list = (node[terminal] ??= []);
    list.push(entry);
  }

  /**
   * Files a pattern with a fixed right-hand part in the suffix table; false (trie) for the
   * rest: no fixed part, or wildcards left of it combined with includeSubdomains.
   */
  private addSuffix(
    reversedLabels: readonly string[],
    entry: number,
    terminal: TrieTerminal,
  ): boolean {
    let fixedCount = 0;
    while (fixedCount < reversedLabels.length && !reversedLabels[fixedCount]!.includes('*'))
      fixedCount++;
    if (fixedCount === 0) return false;
    // join makes one flat string; `+=` would make a rope that every Map access flattens.
    const fixed = reversedLabels.slice(0, fixedCount).reverse().join('.');
    const left = reversedLabels.slice(fixedCount).reverse();
    if (left.length === 0) {
      this.suffixes.add(
        fixed,
        terminal === 'exact' ? EXACT : terminal === 'deep' ? DEEP : SUBTREE,
        entry,
      );
    } else if (left.length === 1 && left[0] === '**') {
      this.suffixes.add(fixed, DEEP, entry); // a leading `**` is `deep` whatever the terminal
    } else if (terminal !== 'exact' || left.slice(1).includes('**')) {
      return false;
    } else if (left.length === 1 && left[0] === '*') {
      this.suffixes.add(fixed, STAR, entry);
    } else {
      this.suffixes.addLeft(fixed, left, entry);
    }
    return true;
  }

  /** Sorts every terminal list once all entries are in (ids are added mostly in order). */
  seal(): void {
    this.suffixes.seal();
    const visit = (node: TrieNode): void => {
      for (const list of [node.exact, node.deep, node.subtree])
        if (list) list.sort((a, b) => a - b);
      node.children?.forEach(visit);
      if (node.star) visit(node.star);
      node.globs?.forEach((g) => visit(g.node));
    };
    visit(this.root);
  }

  private step(node: TrieNode, label: string): TrieNode {
    if (label === '*') return (node.star ??= new TrieNode());
    if (label.includes('*')) {
      node.globs ??= [];
      let glob = node.globs.find((g) => g.text === label);
      if (!glob) {
        glob = { test: globTester(label), node: new TrieNode(), text: label };
        node.globs.push(glob);
      }
      return glob.node;
    }
    node.children ??= new Map();
    let child = node.children.get(label);
    if (!child) {
      child = new TrieNode();
      node.children.set(label, child);
    }
    return child;
  }

  /**
   * The smallest entry id below `best` whose pattern matches the canonical `name` and that
   * `filter` accepts for `bit` and `port`; `best` if there is none. The walks read labels
   * straight out of the string from the right, so a lookup allocates no array.
   */
  firstMatchName(
    name: string,
    filter: EntryFilter,
    bit: number,
    port: number,
    best: number,
  ): number {
    best = this.suffixes.firstMatch(name, filter, bit, port, best);
    return this.trieUsed ? walk(this.root, name, name.length, { filter, bit, port }, best) : best;
  }

  /** Every entry id whose pattern matches the canonical `name`, whatever its ports. */
  collect(name: string, out: number[]): void {
    this.suffixes.collect(name, out);
    if (!this.trieUsed) return;
    const filter = {
      accepts(id: number): boolean {
        out.push(id);
        return false;
      },
    };
    walk(this.root, name, name.length, { filter, bit: 0, port: 0 }, Number.MAX_SAFE_INTEGER);
  }
}

/** What the trie walk (rare: patterns with no fixed part) passes down. */
interface Want {
  filter: EntryFilter;
  bit: number;
  port: number;
}

function firstAccepted(list: number[] | null, want: Want, best: number): number {
  if (list === null) return best;
  for (let i = 0; i < list.length; i++) {
    const id = list[i]!;
    if (id >= best) return best;
    if (want.filter.accepts(id, want.bit, want.port)) return id;
  }
  return best;
}

/**
 * `end` is where the next label to consume ends (exclusive) in `name`, walking from the right;
 * -1 once every label is consumed.
 */
function walk(node: TrieNode, name: string, end: number, want: Want, best: number): number {
  best = firstAccepted(node.subtree, want, best);
  if (end < 0) return firstAccepted(node.exact, want, best);
  best = firstAccepted(node.deep, want, best);
  const start = name.lastIndexOf('.', end - 1) + 1;
  const next = start - 1;
  const label =
    node.children === null && node.globs === null
      ? ''
      : start === 0 && end === name.length
        ? name
        : name.substring(start, end);
  const child = node.children?.get(label);
  if (child) best = walk(child, name, next, want, best);
  if (node.star) best = walk(node.star, name, next, want, best);
  if (node.globs) {
    for (const glob of node.globs)
      if (glob.test(label)) best = walk(glob.node, name, next, want, best);
  }
  return best;
}
