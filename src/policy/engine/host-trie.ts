/**
 * A reversed-label trie over host patterns: lookup cost grows with the number of labels in the
 * name (plus the few wildcard branches on its path), never with the number of rules.
 *
 * Each pattern is stored under its labels read from the right (`com` → `example` → ...). Entry
 * ids are assigned in rule order, so "first match wins" is "smallest id that passes the port and
 * transport check", whichever way through the trie it was found.
 */

/** Accepts an entry id if its port/transport restrictions fit the destination. */
export type EntryFilter = (entry: number) => boolean;

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

function globTester(label: string): (candidate: string) => boolean {
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

export class HostTrie {
  private readonly root = new TrieNode();
  private size = 0;

  get entryCount(): number {
    return this.size;
  }

  /**
   * Adds a pattern given as labels from the right. A leading `**` (last in the reversed list)
   * becomes a `deep` terminal; `subtree` marks includeSubdomains.
   */
  add(reversedLabels: readonly string[], entry: number, terminal: TrieTerminal = 'exact'): void {
    let node = this.root;
    let labels = reversedLabels;
    if (labels[labels.length - 1] === '**') {
      labels = labels.slice(0, -1);
      terminal = 'deep';
    }
    for (const label of labels) node = this.step(node, label);
    const list = (node[terminal] ??= []);
    list.push(entry);
    this.size++;
  }

  /** Sorts every terminal list once all entries are in (ids are added mostly in order). */
  seal(): void {
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
   * The smallest entry id below `best` that matches `labels` (the name split on dots, in
   * written order) and passes `accept`; `best` if there is none.
   */
  firstMatch(labels: readonly string[], accept: EntryFilter, best: number): number {
    return this.firstMatchName(labels.join('.'), accept, best);
  }

  /**
   * As firstMatch, for a canonical name as one string. The walk reads labels straight out of
   * the string from the right, so a lookup allocates no array (split costs more than the walk).
   */
  firstMatchName(name: string, accept: EntryFilter, best: number): number {
    return walk(this.root, name, name.length, accept, best);
  }
}

function firstAccepted(list: number[] | null, accept: EntryFilter, best: number): number {
  if (list === null) return best;
  for (let i = 0; i < list.length; i++) {
    const id = list[i]!;
    if (id >= best) return best;
    if (accept(id)) return id;
  }
  return best;
}

/**
 * `end` is where the next label to consume ends (exclusive) in `name`, walking from the right;
 * -1 once every label is consumed.
 */
function walk(
  node: TrieNode,
  name: string,
  end: number,
  accept: EntryFilter,
  best: number,
): number {
  best = firstAccepted(node.subtree, accept, best);
  if (end < 0) return firstAccepted(node.exact, accept, best);
  best = firstAccepted(node.deep, accept, best);
  const start = name.lastIndexOf('.', end - 1) + 1;
  const next = start - 1;
  const label =
    node.children === null && node.globs === null
      ? ''
      : start === 0 && end === name.length
        ? name
        : name.substring(start, end);
  const child = node.children?.get(label);
  if (child) best = walk(child, name, next, accept, best);
  if (node.star) best = walk(node.star, name, next, accept, best);
  if (node.globs) {
    for (const glob of node.globs)
      if (glob.test(label)) best = walk(glob.node, name, next, accept, best);
  }
  return best;
}
