/**
 * Policy engine benchmark: egress (compilePolicy + decide) against a naive linear scan over the
 * same rules, side by side in one run, at 1k, 10k and 100k entries.
 *
 * For each size: generate the policy (seeded), compile it with both matchers (time, heap after
 * GC), check that both give the same verdict, reason and rule index for every query (and stop
 * loudly if not), then measure decisions per second over the query list for a fixed time budget
 * and per-decision latency (p50/p99, each decision timed on its own).
 */
import { compilePolicy, decide, type CompiledPolicy, type Policy } from '../src/policy/index.js';
import { policyHash } from '../src/policy/engine/compile.js';
import { LinearMatcher, type LinearDecision } from './linear-matcher.js';
import { generatePolicy, generateQueries, type BenchQuery, type QueryClass } from './policy-gen.js';

export interface PolicyBenchOptions {
  sizes: number[];
  queryCount: number;
  /** Time spent measuring throughput, per matcher and size. */
  throughputMs: number;
  /** Upper bound on the time spent timing single decisions, per matcher and size. */
  latencyMs: number;
  seed: number;
  log: (line: string) => void;
}

export const DEFAULT_POLICY_BENCH: Omit<PolicyBenchOptions, 'log'> = {
  sizes: [1_000, 10_000, 100_000],
  queryCount: 2_048,
  throughputMs: 1_500,
  latencyMs: 1_000,
  seed: 20240601,
};

export interface MatcherResult {
  compileMs: number;
  /** Memory used by the compiled structure (heap plus ArrayBuffers after GC, minus before). */
  heapBytes: number;
  /** Heap plus ArrayBuffers after GC once compiled (policy model and everything else included). */
  heapAfterBytes: number;
  decisionsPerSecond: number;
  decisionsMeasured: number;
  p50Ns: number;
  p99Ns: number;
  latencySamples: number;
}

export interface SizeResult {
  entries: number;
  rules: number;
  egress: MatcherResult;
  linear: MatcherResult;
  queryMix: Record<QueryClass, number>;
  /** Part of egress compile time spent hashing the policy for its default version string. */
  hashMs: number;
  outcomes: Record<string, number>;
}

export interface PolicyBenchResult {
  sizes: SizeResult[];
  timerOverheadNs: number;
  gcAvailable: boolean;
  table: string;
  targets: Array<{ what: string; value: string; met: boolean }>;
}

type Gc = () => void;

function gcFunction(): Gc | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as Gc) : undefined;
}

function heapUsedAfterGc(): number {
  const gc = gcFunction();
  if (gc) {
    gc();
    gc();
  }
  // Typed arrays keep their contents outside the JS heap: count them too, or compiled forms
  // built on Int32Arrays would look smaller than they are.
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Median cost of one pair of hrtime.bigint() calls: what single-decision timings include. */
function timerOverheadNs(): number {
  const samples: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const a = nowNs();
    const b = nowNs();
    samples.push(Number(b - a));
  }
  samples.sort((x, y) => x - y);
  return samples[samples.length >> 1]!;
}

/** A decision reduced to what both matchers must agree on. */
interface Verdict3 {
  verdict: string;
  reason: string;
  ruleIndex: number;
}

function egressOutcome(compiled: CompiledPolicy, q: BenchQuery): Verdict3 {
  const d = decide(compiled, q);
  return { verdict: d.verdict, reason: d.reason, ruleIndex: d.rule ? d.rule.index : -1 };
}

function linearOutcome(linear: LinearMatcher, q: BenchQuery): Verdict3 {
  const d: LinearDecision = linear.decide(q);
  return d;
}

/**
 * Decisions per second: cycle through the queries in chunks, checking the clock between
 * chunks, until the budget is spent. `sink` keeps the results alive so nothing is optimised out.
 */
function throughput(
  run: (q: BenchQuery) => number,
  queries: BenchQuery[],
  budgetMs: number,
  chunk: number,
) {
  const budget = BigInt(budgetMs) * 1_000_000n;
  let sink = 0;
  let done = 0;
  let next = 0;
  const start = nowNs();
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < chunk; i++) {
      sink += run(queries[next]!);
      next = next + 1 === queries.length ? 0 : next + 1;
    }
    done += chunk;
    elapsed = nowNs() - start;
  }
  return { perSecond: (done * 1e9) / Number(elapsed), done, sink };
}

/** Times single decisions: up to `passes` passes over the queries, or until the budget runs out. */
function latency(
  run: (q: BenchQuery) => number,
  queries: BenchQuery[],
  budgetMs: number,
  passes: number,
) {
  const samples: number[] = [];
  const budget = BigInt(budgetMs) * 1_000_000n;
  const begin = nowNs();
  let sink = 0;
  outer: for (let p = 0; p < passes; p++) {
    for (const q of queries) {
      const a = nowNs();
      sink += run(q);
      const b = nowNs();
      samples.push(Number(b - a));
      if (b - begin > budget) break outer;
    }
  }
  samples.sort((x, y) => x - y);
  const at = (f: number): number =>
    samples[Math.min(samples.length - 1, Math.floor(samples.length * f))]!;
  return { p50: at(0.5), p99: at(0.99), count: samples.length, sink };
}

function compileTimed<T>(
  build: () => T,
  repeats: number,
): { value: T; ms: number; heapBytes: number; heapAfter: number } {
  const before = heapUsedAfterGc();
  const t0 = nowNs();
  const value = build();
  const first = Number(nowNs() - t0) / 1e6;
  const heapAfter = heapUsedAfterGc();
  // Further compiles (results dropped) give a steadier time than the first, cold one.
  const times = [first];
  for (let i = 1; i < repeats; i++) {
    const t = nowNs();
    build();
    times.push(Number(nowNs() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { value, ms: times[times.length >> 1]!, heapBytes: heapAfter - before, heapAfter };
}

/**
 * Asks both matchers every query and fails loudly on any disagreement. The linear decisions are
 * timed one by one on the way: at 100k entries this pass is the linear matcher's latency sample.
 */
function verify(
  compiled: CompiledPolicy,
  linear: LinearMatcher,
  queries: BenchQuery[],
): { outcomes: Record<string, number>; linearNs: number[] } {
  const outcomes: Record<string, number> = {};
  const mismatches: string[] = [];
  const linearNs: number[] = [];
  for (const q of queries) {
    const a = egressOutcome(compiled, q);
    const t0 = nowNs();
    const b = linearOutcome(linear, q);
    linearNs.push(Number(nowNs() - t0));
    if (a.verdict !== b.verdict || a.reason !== b.reason || a.ruleIndex !== b.ruleIndex) {
      mismatches.push(
        `  ${q.transport ?? 'tcp'} ${JSON.stringify(q.host)}:${q.port} (${q.class}): ` +
          `egress ${a.verdict}/${a.reason}/rule ${a.ruleIndex}, linear ${b.verdict}/${b.reason}/rule ${b.ruleIndex}`,
      );
    }
    outcomes[a.reason] = (outcomes[a.reason] ?? 0) + 1;
  }
  if (mismatches.length > 0) {
    throw new Error(
      `egress and the linear baseline disagree on ${mismatches.length} of ${queries.length} queries:\n` +
        mismatches.slice(0, 20).join('\n'),
    );
  }
  return { outcomes, linearNs };
}

function benchSize(entries: number, opts: PolicyBenchOptions): SizeResult {
  const policy: Policy = generatePolicy(entries, opts.seed + entries);
  const queries = generateQueries(policy, opts.queryCount, opts.seed * 7 + entries);
  const queryMix = { hit: 0, 'near-miss': 0, miss: 0, 'odd-spelling': 0 } as Record<
    QueryClass,
    number
  >;
  for (const q of queries) queryMix[q.class]++;

  opts.log(`  ${entries} entries: compiling`);
  const eg = compileTimed(() => compilePolicy(policy), 3);
  const li = compileTimed(() => new LinearMatcher(policy), 3);
  const compiled = eg.value;
  const h0 = nowNs();
  policyHash(policy);
  const hashMs = Number(nowNs() - h0) / 1e6;
  const linear = li.value;

  opts.log(`  ${entries} entries: checking both matchers agree on ${queries.length} queries`);
  const { outcomes, linearNs } = verify(compiled, linear, queries);

  const runEgress = (q: BenchQuery): number => (decide(compiled, q).allowed ? 1 : 0);
  const runLinear = (q: BenchQuery): number => (linear.decide(q).verdict === 'allow' ? 1 : 0);

  opts.log(`  ${entries} entries: measuring`);
  // Warm up the egress path before timing it (the linear one warmed up during the check).
  throughput(runEgress, queries, 200, 256);
  const egT = throughput(runEgress, queries, opts.throughputMs, 1024);
  const egL = latency(runEgress, queries, opts.latencyMs, 5);
  const liT = throughput(runLinear, queries, opts.throughputMs, 16);
  linearNs.sort((a, b) => a - b);
  const pick = (f: number): number =>
    linearNs[Math.min(linearNs.length - 1, Math.floor(linearNs.length * f))]!;
  const liL = { p50: pick(0.5), p99: pick(0.99), count: linearNs.length, sink: 0 };

  const result = (
    c: { ms: number; heapBytes: number; heapAfter: number },
    t: typeof egT,
    l: typeof egL,
  ): MatcherResult => ({
    compileMs: c.ms,
    heapBytes: c.heapBytes,
    heapAfterBytes: c.heapAfter,
    decisionsPerSecond: t.perSecond,
    decisionsMeasured: t.done,
    p50Ns: l.p50,
    p99Ns: l.p99,
    latencySamples: l.count,
  });
  return {
    entries,
    rules: policy.rules.length,
    egress: result(eg, egT, egL),
    linear: result(li, liT, liL),
    queryMix,
    hashMs,
    outcomes,
  };
}

function fmtCount(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(2)}M`;
  if (n >= 1_000) return `${(n / 1_000).toFixed(1)}k`;
  return n.toFixed(0);
}

function fmtSize(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

function fmtNs(ns: number): string {
  if (ns >= 1_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`;
  if (ns >= 1_000) return `${(ns / 1_000).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

function fmtMb(bytes: number, gc: boolean): string {
  return gc ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : 'n/a';
}

function fmtRatio(r: number): string {
  return r >= 100 ? `${r.toFixed(0)}×` : `${r.toFixed(1)}×`;
}

function renderTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string =>
    `| ${r.map((cell, c) => (c === 0 || c === 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (c <= 1 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

export function runPolicyBench(opts: PolicyBenchOptions): PolicyBenchResult {
  const gcAvailable = gcFunction() !== undefined;
  const overhead = timerOverheadNs();
  const sizes: SizeResult[] = [];
  for (const entries of opts.sizes) sizes.push(benchSize(entries, opts));

  const rows: string[][] = [
    ['entries', 'matcher', 'compile', 'heap (compiled)', 'decisions/s', 'p50', 'p99'],
  ];
  for (const s of sizes) {
    for (const [name, m] of [
      ['egress', s.egress],
      ['linear', s.linear],
    ] as const) {
      rows.push([
        fmtSize(s.entries),
        name,
        `${m.compileMs.toFixed(1)} ms`,
        fmtMb(m.heapBytes, gcAvailable),
        fmtCount(m.decisionsPerSecond),
        fmtNs(m.p50Ns),
        fmtNs(m.p99Ns),
      ]);
    }
    rows.push([
      fmtSize(s.entries),
      'egress/linear',
      `${fmtRatio(s.egress.compileMs / s.linear.compileMs)} time`,
      gcAvailable && s.linear.heapBytes > 256 * 1024
        ? `${fmtRatio(s.egress.heapBytes / s.linear.heapBytes)} memory`
        : 'n/a',
      `${fmtRatio(s.egress.decisionsPerSecond / s.linear.decisionsPerSecond)} faster`,
      `${fmtRatio(s.linear.p50Ns / s.egress.p50Ns)} lower`,
      `${fmtRatio(s.linear.p99Ns / s.egress.p99Ns)} lower`,
    ]);
  }

  const targets: PolicyBenchResult['targets'] = [];
  const at = (n: number): SizeResult | undefined => sizes.find((s) => s.entries === n);
  const big = at(100_000);
  const mid = at(10_000);
  if (big) {
    targets.push({
      what: 'egress ≥ 1,000,000 decisions/s single-threaded at 100k entries',
      value: `${fmtCount(big.egress.decisionsPerSecond)}/s`,
      met: big.egress.decisionsPerSecond >= 1_000_000,
    });
    targets.push({
      what: 'egress compiles 100k entries in < 1 s',
      value: `${big.egress.compileMs.toFixed(0)} ms`,
      met: big.egress.compileMs < 1000,
    });
  }
  if (mid) {
    const ratio = mid.egress.decisionsPerSecond / mid.linear.decisionsPerSecond;
    targets.push({
      what: 'egress ≥ 50× the linear baseline at 10k entries',
      value: fmtRatio(ratio),
      met: ratio >= 50,
    });
  }

  const notes: string[] = [];
  notes.push(
    `Queries per size: ${opts.queryCount} (` +
      Object.entries(sizes[0]?.queryMix ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') +
      `); both matchers agreed on verdict, reason and rule index for every query.`,
  );
  for (const s of sizes)
    notes.push(
      `Outcomes at ${fmtSize(s.entries)} (${s.rules} rules): ` +
        Object.entries(s.outcomes)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') +
        `; policy hash ${s.hashMs.toFixed(0)} ms of the compile` +
        `; linear throughput from ${fmtCount(s.linear.decisionsMeasured)} decisions, its p50/p99 from all ${s.linear.latencySamples} queries.`,
    );
  notes.push(
    `p50/p99 time single decisions with process.hrtime.bigint(); each includes ~${overhead} ns of timer overhead.`,
  );
  if (!gcAvailable) notes.push('Heap figures need --expose-gc (the runner adds it).');
  else
    notes.push(
      `Heap after compiling 100k (whole process, GC'd): ${big ? fmtMb(big.egress.heapAfterBytes, true) : 'n/a'}.`,
    );

  const table = [
    renderTable(rows),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
    'Targets:',
    ...targets.map((t) => `  [${t.met ? 'met' : 'NOT MET'}] ${t.what}: ${t.value}`),
  ].join('\n');
  return { sizes, timerOverheadNs: overhead, gcAvailable, table, targets };
}
