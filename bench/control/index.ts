/**
 * `npm run bench -- control [--events 1m] [--quick]`: the control-plane store (issue 14).
 *   - Ingestion: events/s through `appendEvents` in batches of 1,000 into SQLite and
 *     PostgreSQL (a throw-away cluster with fsync on), overall and for the last tenth of the
 *     load (the table at size). Target: at least 50,000 events/s each.
 *   - Query: the first page (100) of an audit query with two filters and a text search
 *     (type + workspace + q) over the loaded table, p95 over varied parameters. Target: at
 *     most 200 ms (issue 14 says at 10 million events; --events sets the count).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore, type StoreLocation } from '../../src/control/store/open.js';
import type { EventFilter, Store } from '../../src/control/store/store.js';
import {
  startPostgres,
  withoutPostgres,
  type PostgresServer,
} from '../../test/helpers/postgres.js';
import { runEffectiveBench } from './effective.js';
import { EventGenerator, hostName, prng, WORKSPACES } from './events-gen.js';

const BATCH = 1000;
const INGEST_TARGET = 50_000;
const QUERY_TARGET_MS = 200;

export interface ControlBenchOptions {
  quick: boolean;
  /** How many events to load (default 1,000,000; 100,000 with --quick). */
  events?: number;
  log?: (line: string) => void;
}

interface IngestResult {
  events: number;
  seconds: number;
  rate: number;
  lastTenthRate: number;
}

interface QueryResult {
  name: string;
  runs: number;
  p50: number;
  p95: number;
  max: number;
  rows: number;
}

interface BackendResult {
  backend: string;
  ingest: IngestResult;
  queries: QueryResult[];
  sizeMb: number | null;
}

async function ingest(
  store: Store,
  total: number,
  log: (l: string) => void,
): Promise<IngestResult> {
  const gen = new EventGenerator(42, Date.parse('2026-11-01T00:00:00.000Z'));
  let storing = 0;
  let lastTenth = 0;
  const tenthFrom = total - Math.max(BATCH, Math.floor(total / 10));
  const wallStart = performance.now();
  for (let done = 0; done < total; done += BATCH) {
    const batch = gen.batch(Math.min(BATCH, total - done));
    const started = performance.now();
    const { inserted } = await store.appendEvents(batch);
    const took = performance.now() - started;
    if (inserted !== batch.length) throw new Error(`only ${inserted} of ${batch.length} new`);
    storing += took;
    if (done >= tenthFrom) lastTenth += took;
    if ((done / BATCH) % Math.max(1, Math.floor(total / BATCH / 10)) === 0 && done > 0) {
      log(
        `  ${store.backend}: ${done.toLocaleString('en')} events, ${Math.round(done / (storing / 1000)).toLocaleString('en')}/s storing, ${((performance.now() - wallStart) / 1000).toFixed(0)} s wall`,
      );
    }
  }
  return {
    events: total,
    seconds: storing / 1000,
    rate: total / (storing / 1000),
    lastTenthRate: (total - tenthFrom) / (lastTenth / 1000),
  };
}

/** The query mix: varied values, each shape run `runs` times with different parameters. */
function queryShapes(): { name: string; filters: (i: number) => EventFilter }[] {
  const r = prng(7);
  const terms = ['github', 'npmjs', 'pypi', 'docker', 'vendor12', 'telemetry', 'api1', 'openai'];
  const ws = () => `ws-${Math.floor(r() ** 1.5 * WORKSPACES)}`;
  return [
    {
      name: 'type + workspace + q (target)',
      filters: (i) => ({
        type: i % 2 ? 'request.denied' : 'request.allowed',
        workspace: ws(),
        q: terms[i % terms.length]!,
      }),
    },
    {
      name: 'severity + user + q',
      filters: (i) => ({
        severity: 'warning',
        user: `user${Math.floor(r() * 200)}`,
        q: terms[i % terms.length]!,
      }),
    },
    { name: 'q only (rare host)', filters: () => ({ q: hostName(1000 + Math.floor(r() * 900)) }) },
    { name: 'q only (common)', filters: (i) => ({ q: terms[i % 3]! }) },
    { name: 'workspace only', filters: () => ({ workspace: ws() }) },
    {
      name: 'scope prefix + type',
      filters: () => ({ scopes: [`orgs/org${Math.floor(r() * 5)}`], type: 'request.denied' }),
    },
  ];
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function queries(store: Store, runs: number): Promise<QueryResult[]> {
  const out: QueryResult[] = [];
  for (const shape of queryShapes()) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < runs; i++) {
      const filter = shape.filters(i);
      const started = performance.now();
      const page = await store.queryEvents({ ...filter, limit: 100 });
      times.push(performance.now() - started);
      rows += page.events.length;
    }
    times.sort((a, b) => a - b);
    out.push({
      name: shape.name,
      runs,
      p50: quantile(times, 0.5),
      p95: quantile(times, 0.95),
      max: times[times.length - 1]!,
      rows: rows / runs,
    });
  }
  return out;
}

/** Refreshes the planner statistics after the bulk load (autovacuum would, later). */
async function analyze(location: StoreLocation): Promise<void> {
  if (location.kind === 'sqlite') {
    const db = new Database(location.path);
    db.exec('ANALYZE');
    db.close();
  } else {
    const client = new pg.Client({ connectionString: location.url });
    await client.connect();
    await client.query('VACUUM ANALYZE events');
    await client.end();
  }
}

async function sizeMb(location: StoreLocation): Promise<number | null> {
  if (location.kind === 'sqlite') {
    let bytes = 0;
    for (const suffix of ['', '-wal']) {
      try {
        bytes += statSync(location.path + suffix).size;
      } catch {
        // no WAL file
      }
    }
    return bytes / 1e6;
  }
  const client = new pg.Client({ connectionString: location.url });
  await client.connect();
  const { rows } = await client.query<{ size: string }>(
    'SELECT pg_database_size(current_database()) AS size',
  );
  await client.end();
  return Number(rows[0]!.size) / 1e6;
}

async function runBackend(
  location: StoreLocation,
  total: number,
  runs: number,
  log: (l: string) => void,
): Promise<BackendResult> {
  let store = await openStore(location);
  const ingested = await ingest(store, total, log);
  await store.close();
  log(`  ${location.kind}: loaded; analysing`);
  await analyze(location);
  store = await openStore(location);
  await queries(store, 5); // warm the cache a little, as a running server's would be
  const measured = await queries(store, runs);
  await store.close();
  return {
    backend: location.kind,
    ingest: ingested,
    queries: measured,
    sizeMb: await sizeMb(location),
  };
}

function table(results: BackendResult[], total: number): { text: string; met: boolean } {
  const lines: string[] = [];
  let met = true;
  const n = (x: number) => Math.round(x).toLocaleString('en');
  lines.push(
    `| ${total.toLocaleString('en')} events | ${results.map((r) => r.backend).join(' | ')} | target |`,
  );
  lines.push(`|---|${results.map(() => '---:').join('|')}|---|`);
  const ingestMet = results.every((r) => r.ingest.rate >= INGEST_TARGET);
  met &&= ingestMet;
  lines.push(
    `| ingest, events/s (batches of ${BATCH}) | ${results.map((r) => n(r.ingest.rate)).join(' | ')} | ≥ ${n(INGEST_TARGET)} ${ingestMet ? 'met' : 'MISSED'} |`,
  );
  lines.push(
    `| ingest, last tenth of the load | ${results.map((r) => n(r.ingest.lastTenthRate)).join(' | ')} | |`,
  );
  lines.push(`| load time, s | ${results.map((r) => r.ingest.seconds.toFixed(1)).join(' | ')} | |`);
  lines.push(
    `| database size, MB | ${results.map((r) => (r.sizeMb === null ? '-' : n(r.sizeMb))).join(' | ')} | |`,
  );
  const names = results[0]?.queries.map((q) => q.name) ?? [];
  for (const name of names) {
    const cells = results.map((r) => {
      const q = r.queries.find((x) => x.name === name)!;
      return `${q.p50.toFixed(1)} / ${q.p95.toFixed(1)} / ${q.max.toFixed(0)} (${q.rows.toFixed(0)} rows)`;
    });
    const target = name.includes('(target)');
    const ok = results.every((r) => r.queries.find((x) => x.name === name)!.p95 <= QUERY_TARGET_MS);
    if (target) met &&= ok;
    lines.push(
      `| ${name}: p50 / p95 / max ms | ${cells.join(' | ')} | ${target ? `p95 ≤ ${QUERY_TARGET_MS} ${ok ? 'met' : 'MISSED'}` : ''} |`,
    );
  }
  return { text: lines.join('\n'), met };
}

export async function runControlBench(options: ControlBenchOptions): Promise<boolean> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const total = options.events ?? (options.quick ? 100_000 : 1_000_000);
  const runs = options.quick ? 20 : 60;
  const dir = mkdtempSync(join(tmpdir(), 'egress-control-bench-'));
  const results: BackendResult[] = [];
  let server: PostgresServer | null = null;
  try {
    results.push(
      await runBackend({ kind: 'sqlite', path: join(dir, 'egress.db') }, total, runs, log),
    );
    const skip = withoutPostgres();
    if (skip) log(`PostgreSQL skipped: ${skip}`);
    else {
      server = await startPostgres({ fsync: true });
      results.push(
        await runBackend(
          { kind: 'postgres', url: await server.createDatabase() },
          total,
          runs,
          log,
        ),
      );
    }
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const { text, met } = table(results, total);
  console.log(text);
  const eff = runEffectiveBench(100_000);
  const effMet = eff.resolveMs <= 1000;
  console.log(
    `\neffective policy for ${eff.workspaces.toLocaleString('en')} workspaces (in memory, store read excluded): ${eff.resolveMs.toFixed(0)} ms (hierarchy built in ${eff.buildMs.toFixed(0)} ms; steps ${JSON.stringify(eff.steps)}); target ≤ 1000 ms ${effMet ? 'met' : 'MISSED'}`,
  );
  return met && effMet;
}
