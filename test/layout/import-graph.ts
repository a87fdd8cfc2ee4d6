/**
 * The value-import graph of src/, built with the TypeScript compiler API (the parser only, so
 * it takes well under a second): which module loads which when it is evaluated. Type-only
 * imports (`import type`, `export type`, or every specifier marked `type`) are left out: they
 * vanish from the emitted JavaScript. An interface imported without `type` counts as a value
 * import here (the parser cannot tell); write `import type` for it. Dynamic `import()` is lazy
 * and creates no load-order cycle, so it is left out too.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import ts from 'typescript';

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTs(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** `./x.js` next to `from` → the `.ts` file it names, if it is one of `files`. */
function resolveRelative(
  from: string,
  specifier: string,
  files: ReadonlySet<string>,
): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => files.has(c)) ?? null;
}

function importLoadsValues(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return true; // `import './x.js'`: loaded for its side effects
  if (clause.isTypeOnly) return false;
  if (clause.name) return true;
  const bindings = clause.namedBindings;
  if (!bindings || ts.isNamespaceImport(bindings)) return true;
  // `import {} from` and `import { type A, type B } from` are elided; one value binding loads it.
  return bindings.elements.some((el) => !el.isTypeOnly);
}

function exportLoadsValues(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return false;
  const clause = node.exportClause;
  if (!clause || ts.isNamespaceExport(clause)) return true; // `export * from`
  return clause.elements.some((el) => !el.isTypeOnly);
}

/** Module (path relative to `root`, with `/`) → the modules it loads, sorted. */
export function valueImportGraph(root: string, srcDir = 'src'): Map<string, string[]> {
  const files = listTs(resolve(root, srcDir)).sort();
  const fileSet = new Set(files);
  const name = (f: string) => relative(root, f).split('\\').join('/');
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022);
    const targets = new Set<string>();
    for (const stmt of source.statements) {
      let specifier: ts.Expression | undefined;
      let loads = false;
      if (ts.isImportDeclaration(stmt)) {
        specifier = stmt.moduleSpecifier;
        loads = importLoadsValues(stmt);
      } else if (ts.isExportDeclaration(stmt) && stmt.moduleSpecifier) {
        specifier = stmt.moduleSpecifier;
        loads = exportLoadsValues(stmt);
      }
      if (!loads || !specifier || !ts.isStringLiteral(specifier)) continue;
      const target = resolveRelative(file, specifier.text, fileSet);
      if (target) targets.add(name(target));
    }
    graph.set(name(file), [...targets].sort());
  }
  return graph;
}

/**
 * Every elementary cycle of the graph (Johnson's algorithm, per strongly connected component),
 * each rotated to start at its smallest module so that a cycle has one spelling:
 * `a.ts → b.ts → a.ts`.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const nodes = [...graph.keys()].sort();
  const cycles = new Set<string>();
  const index = new Map(nodes.map((n, i) => [n, i]));
  for (let s = 0; s < nodes.length; s++) {
    // Cycles whose smallest node is nodes[s]: search only through nodes >= s.
    const start = nodes[s]!;
    const blocked = new Set<string>();
    const blockMap = new Map<string, Set<string>>();
    const stack: string[] = [];
    const next = (n: string) => (graph.get(n) ?? []).filter((m) => (index.get(m) ?? -1) >= s);
    const unblock = (n: string) => {
      blocked.delete(n);
      const waiting = blockMap.get(n);
      if (!waiting) return;
      blockMap.delete(n);
      for (const w of waiting) if (blocked.has(w)) unblock(w);
    };
    const circuit = (v: string): boolean => {
      let found = false;
      stack.push(v);
      blocked.add(v);
      for (const w of next(v)) {
        if (w === start) {
          cycles.add([...stack, start].join(' → '));
          found = true;
        } else if (!blocked.has(w) && circuit(w)) found = true;
      }
      if (found) unblock(v);
      else
        for (const w of next(v)) {
          const set = blockMap.get(w) ?? new Set<string>();
          set.add(v);
          blockMap.set(w, set);
        }
      stack.pop();
      return found;
    };
    circuit(start);
  }
  return [...cycles].sort();
}
