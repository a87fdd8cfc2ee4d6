/**
 * A parsed YAML or JSON document that remembers where every value came from.
 *
 * All formats go through here (JSON is parsed as YAML, which it is a subset of), so every
 * error, whether syntax, schema or meaning, can point at FILE:LINE:COL.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Diagnostic, Path, SourceLocation } from './diagnostics.js';

export interface DocumentOptions {
  /** Shown in every location. */
  file: string;
  /** Lines before the document in the real file (YAML front matter inside Markdown). */
  lineOffset?: number;
}

export class SourceDocument {
  readonly file: string;
  readonly value: unknown;
  private readonly root: Node | null;
  private readonly lineCounter: LineCounter;
  private readonly lineOffset: number;

  private constructor(
    file: string,
    root: Node | null,
    value: unknown,
    lc: LineCounter,
    lineOffset: number,
  ) {
    this.file = file;
    this.root = root;
    this.value = value;
    this.lineCounter = lc;
    this.lineOffset = lineOffset;
  }

  /**
   * Parses text; syntax errors and duplicate keys are returned as diagnostics (never thrown).
   * `doc` is undefined only when the text could not be parsed at all.
   */
  static parse(
    text: string,
    options: DocumentOptions,
  ): { doc?: SourceDocument; diagnostics: Diagnostic[] } {
    const lineCounter = new LineCounter();
    const lineOffset = options.lineOffset ?? 0;
    const parsed = parseDocument(text, {
      lineCounter,
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
    });
    const diagnostics: Diagnostic[] = [];
    for (const err of [...parsed.errors, ...parsed.warnings]) {
      const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
      diagnostics.push({
        severity: parsed.errors.includes(err as never) ? 'error' : 'warning',
        file: options.file,
        line: pos.line + lineOffset,
        col: pos.col,
        message: describeYamlError(err.code, err.message),
        ...(err.code === 'DUPLICATE_KEY' ? { hint: 'remove one of the two entries' } : {}),
      });
    }
    if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
    let value: unknown;
    try {
      value = parsed.toJS({ maxAliasCount: 100 });
    } catch (err) {
      diagnostics.push({
        severity: 'error',
        file: options.file,
        line: 1 + lineOffset,
        col: 1,
        message: `cannot read the document: ${(err as Error).message}`,
      });
      return { diagnostics };
    }
    const root = (parsed.contents as Node | null) ?? null;
    return {
      doc: new SourceDocument(options.file, root, value, lineCounter, lineOffset),
      diagnostics,
    };
  }

  /** Where the value at `path` starts; with `key`, where its key starts (for unknown fields). */
  locate(path: Path, options: { key?: boolean } = {}): SourceLocation {
    let node: Node | null = this.root;
    let keyNode: Node | null = null;
    let lastFound: Node | null = this.root;
    for (const segment of path) {
      keyNode = null;
      if (node && isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
        if (!pair) break;
        keyNode = (pair.key as Node | null) ?? null;
        node = (pair.value as Node | null) ?? keyNode;
      } else if (node && isSeq(node) && typeof segment === 'number') {
        node = (node.items[segment] as Node | null) ?? null;
      } else {
        break;
      }
      if (!node) break;
      lastFound = node;
    }
    const target = options.key && keyNode ? keyNode : (node ?? lastFound);
    const offset = target?.range?.[0] ?? 0;
    const pos = this.lineCounter.linePos(offset);
    return { file: this.file, line: pos.line + this.lineOffset, col: pos.col };
  }

  /** The value at a path, as plain JS. */
  get(path: Path): unknown {
    let value: unknown = this.value;
    for (const segment of path) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string | number, unknown>)[segment];
    }
    return value;
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (typeof key === 'string') return key;
  return undefined;
}

function describeYamlError(code: string, message: string): string {
  const firstLine = message.split('\n')[0] ?? message;
  const cleaned = firstLine.replace(/ at line \d+, column \d+:?$/, '');
  switch (code) {
    case 'DUPLICATE_KEY':
      return `duplicate key: ${cleaned.replace(/^Map keys must be unique$/, 'this key appears twice in the same mapping')}`;
    case 'TAB_AS_INDENT':
      return 'tabs are not allowed for indentation in YAML; indent with spaces';
    default:
      return `YAML syntax error: ${cleaned}`;
  }
}
