/**
 * Guardrail: no module of src/ may load itself through its value imports (a cycle makes
 * evaluation order decide what a module sees, and hides layering mistakes). The graph is built
 * with the TypeScript compiler API, ignoring type-only imports (test/layout/import-graph.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCycles, valueImportGraph } from './import-graph.js';

/**
 * The value cycles that exist today (reviews/layout-2026-12.md §1.2), spelled as findCycles
 * spells them. Another branch is removing them: THIS LIST MUST ONLY SHRINK, TO EMPTY. Never add
 * a cycle here; break it (move the shared piece into its own module) instead. When a listed cycle
 * is gone, the test below fails until it is removed from the list too.
 */
// Empty since RequestFlow owns the request path (issue 15): keep it so.
const KNOWN_CYCLES: readonly string[] = [];

describe('import cycles in src/', () => {
  const cycles = findCycles(valueImportGraph(process.cwd()));

  it('no value-import cycle beyond the known ones', () => {
    const fresh = cycles.filter((c) => !KNOWN_CYCLES.includes(c));
    assert.deepEqual(
      fresh,
      [],
      `new import cycles (break each one; an interface imported without "type" counts, so write "import type" for it):\n${fresh.join('\n')}`,
    );
  });

  it('every known cycle still exists (remove the ones that are gone from KNOWN_CYCLES)', () => {
    const gone = KNOWN_CYCLES.filter((c) => !cycles.includes(c));
    assert.deepEqual(
      gone,
      [],
      `these cycles are gone: delete them from KNOWN_CYCLES:\n${gone.join('\n')}`,
    );
  });
});

describe('findCycles', () => {
  const g = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
  const ROWS: Array<[string, Record<string, string[]>, string[]]> = [
    ['no cycle', { a: ['b'], b: ['c'], c: [] }, []],
    ['two modules', { a: ['b'], b: ['a'] }, ['a → b → a']],
    ['a self-import', { a: ['a'] }, ['a → a']],
    [
      'a triangle, spelled from its smallest module',
      { c: ['a'], a: ['b'], b: ['c'] },
      ['a → b → c → a'],
    ],
    [
      'two cycles through one module: both listed',
      { a: ['b', 'c'], b: ['a'], c: ['a'] },
      ['a → b → a', 'a → c → a'],
    ],
    [
      'a bigger component: every elementary cycle',
      { a: ['b'], b: ['c', 'a'], c: ['a', 'b'] },
      ['a → b → a', 'a → b → c → a', 'b → c → b'],
    ],
  ];
  for (const [title, edges, expected] of ROWS)
    it(title, () => assert.deepEqual(findCycles(g(edges)), expected));
});
