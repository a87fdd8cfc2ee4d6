/**
 * Proxy benchmark (`npm run bench -- proxy`): egress next to Squid, tinyproxy and a direct
 * connection, in one run, against a loopback origin. Every party is its own process; egress is
 * the real CLI (`bin/egress proxy`). Prints one markdown table with ratios and the targets.
 *
 * Environment: EGRESS_BENCH_QUICK=1 (or `--quick`) shortens every step; EGRESS_BENCH_NODE_ARGS
 * adds node flags to the egress process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, commandExists, freePort, hardFileLimit, waitForPort } from './children.js';
import type { BulkReport, IdleReport, LoadConfig, TunnelsReport } from './load.js';
import {
  egressSubject,
  ceilingSubject,
  floorSubject,
  preparePeerFiles,
  squidSubject,
  tinyproxySubject,
  type BenchPaths,
  type Subject,
} from './subjects.js';
import { renderTable, type Column, type Results, type SubjectResult } from './table.js';
import { runWrk } from './wrk.js';

export interface ProxyBenchOptions {
  quick?: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
const log = (line: string) => process.stderr.write(`[proxy bench] ${line}\n`);

type Plan = ReturnType<typeof plan>;

function plan(quick: boolean) {
  return {
    rounds: quick ? 1 : 2,
    wrkWarmupS: quick ? 1 : 2,
    wrkS: quick ? 3 : 5,
    tunnelWarmupMs: quick ? 500 : 1_000,
    tunnelMs: quick ? 2_000 : 4_000,
    tunnelConcurrency: 32,
    bulkBytes: quick ? 256 * 1024 * 1024 : 1024 * 1024 * 1024,
    /** Two sockets per tunnel in the proxy, plus headroom, must fit under the hard fd limit. */
    idleTunnels: Math.min(quick ? 2_000 : 10_000, Math.floor((hardFileLimit() - 200) / 2)),
  };
}

/** Runs the load generator in its own process. */
function load(config: LoadConfig): Child {
  return new Child(`load ${config.mode}`, [
    process.execPath,
    join(here, 'load.js'),
    JSON.stringify(config),
  ]);
}

interface Target {
  column: Column;
  subject: Subject | 'direct';
  steps: Step[];
}

type Step = 'forward' | 'tunnels' | 'bulk' | 'idle';

interface Running {
  target: Target;
  /** Undefined for the direct column. */
  proxy?: { host: string; port: number };
  child?: Child;
  result: SubjectResult;
}

const better = <T>(a: T | undefined, b: T, key: (x: T) => number): T =>
  a === undefined || key(b) > key(a) ? b : a;

/** Runs one step and records a failure as a note instead of stopping the run. */
async function attempt(r: Running, step: string, body: () => Promise<void>): Promise<void> {
  try {
    log(`${r.target.column}: ${step}`);
    await body();
  } catch (err) {
    r.result.notes.push(`${step} failed: ${(err as Error).message}`);
  }
}

async function forward(r: Running, paths: BenchPaths, p: Plan, lua: string, warm: boolean) {
  await attempt(r, 'HTTP forward', async () => {
    if (!commandExists('wrk')) throw new Error('wrk is not installed (apt-get install wrk)');
    const authority = `allowed.test:${paths.originPort}`;
    const run = (seconds: number) =>
      runWrk({
        ...(r.proxy
          ? {
              url: `http://127.0.0.1:${r.proxy.port}/`,
              script: lua,
              absoluteTarget: `http://${authority}/`,
            }
          : { url: `http://127.0.0.1:${paths.originPort}/` }),
        threads: 1,
        connections: 32,
        seconds,
      });
    if (warm) await run(p.wrkWarmupS);
    const report = await run(p.wrkS);
    if (report.non2xx > 0) r.result.notes.push(`HTTP forward: ${report.non2xx} non-2xx answers`);
    if (report.socketErrors > 0 && !r.result.notes.some((n) => n.includes('socket errors')))
      r.result.notes.push(
        `HTTP forward: ${report.socketErrors} socket errors in one round (wrk counts a ` +
          `connection the proxy closes after a response as a read error; it then reconnects)`,
      );
    r.result.forward = better(r.result.forward, report, (x) => x.requestsPerSecond);
  });
}

async function tunnels(r: Running, paths: BenchPaths, p: Plan, warm: boolean) {
  await attempt(r, 'CONNECT tunnels', async () => {
    const child = load({
      mode: 'tunnels',
      ...(r.proxy ? { proxy: r.proxy } : {}),
      target: `allowed.test:${paths.originPort}`,
      origin: { host: '127.0.0.1', port: paths.originPort },
      concurrency: p.tunnelConcurrency,
      warmupMs: warm ? p.tunnelWarmupMs : 0,
      durationMs: p.tunnelMs,
    });
    const report = await child.report<TunnelsReport>(p.tunnelMs * 3 + 30_000);
    if (report.failed > 0)
      r.result.notes.push(`CONNECT tunnels: ${report.failed} failed (${report.firstError})`);
    r.result.tunnels = better(r.result.tunnels, report, (x) => x.perSecond);
  });
}

async function bulk(r: Running, paths: BenchPaths, p: Plan) {
  await attempt(r, 'bulk', async () => {
    const child = load({
      mode: 'bulk',
      ...(r.proxy ? { proxy: r.proxy } : {}),
      target: `allowed.test:${paths.originPort}`,
      origin: { host: '127.0.0.1', port: paths.originPort },
      bytes: p.bulkBytes,
    });
    r.result.bulk = better(
      r.result.bulk,
      await child.report<BulkReport>(60_000),
      (x) => x.mbPerSecond,
    );
  });
}

/** RSS of a fresh proxy process before and while it holds `p.idleTunnels` idle tunnels. */
async function idle(r: Running, subject: Subject, paths: BenchPaths, p: Plan) {
  await attempt(r, 'idle tunnels', async () => {
    const running = await subject.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const rssBeforeMb = running.child.rssMb();
      const child = load({
        mode: 'idle',
        proxy: { host: '127.0.0.1', port: running.port },
        target: `allowed.test:${paths.originPort}`,
        origin: { host: '127.0.0.1', port: paths.originPort },
        count: p.idleTunnels,
        concurrency: 200,
      });
      try {
        const report = await child.firstJsonLine<IdleReport>(90_000);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const rssMb = running.child.rssMb();
        const perTunnel = (rssMb - rssBeforeMb) / Math.max(1, report.opened);
        r.result.idle = {
          tunnels: report.opened,
          rssBeforeMb,
          rssMb,
          rssAt10kMb: report.opened >= 10_000 ? rssMb : rssBeforeMb + perTunnel * 10_000,
        };
        if (report.failed > 0)
          r.result.notes.push(`idle tunnels: ${report.failed} failed (${report.firstError})`);
        if (report.opened < 10_000)
          r.result.notes.push(
            `idle tunnels: ${report.opened.toLocaleString('en-US')} held (open-file hard ` +
              `limit ${hardFileLimit()}, two sockets per tunnel); the 10,000 figure is scaled linearly`,
          );
      } finally {
        await child.stop();
      }
    } finally {
      await running.child.stop();
    }
  });
}

/**
 * Every subject runs at once (idle ones cost nothing) and the load steps alternate between
 * them in rounds, keeping the best round: the machine's background load then falls on all
 * columns alike instead of on whichever ran at a busy moment.
 */
async function measureAll(targets: Target[], paths: BenchPaths, p: Plan, lua: string) {
  const running: Running[] = [];
  try {
    for (const target of targets) {
      const r: Running = { target, result: { notes: [] } };
      running.push(r);
      if (target.subject === 'direct') continue;
      if (target.subject.missing) {
        r.result.notes.push(`skipped: ${target.subject.missing}`);
        continue;
      }
      try {
        const started = await target.subject.start();
        r.child = started.child;
        r.proxy = { host: '127.0.0.1', port: started.port };
      } catch (err) {
        r.result.notes.push((err as Error).message);
      }
    }
    const ready = (step: Step) =>
      running.filter(
        (r) => r.target.steps.includes(step) && (r.proxy || r.target.subject === 'direct'),
      );
    for (let round = 0; round < p.rounds; round++) {
      for (const r of ready('forward')) await forward(r, paths, p, lua, round === 0);
      for (const r of ready('tunnels')) await tunnels(r, paths, p, round === 0);
    }
    for (let round = 0; round < p.rounds; round++)
      for (const r of ready('bulk')) await bulk(r, paths, p);
  } finally {
    for (const r of running) await r.child?.stop();
  }
  for (const r of running)
    if (
      r.target.steps.includes('idle') &&
      r.target.subject !== 'direct' &&
      !r.target.subject.missing
    )
      await idle(r, r.target.subject, paths, p);
  return running;
}

function version(command: string): string | null {
  if (!commandExists(command.split(' ')[0]!)) return null;
  const out = spawnSync('sh', ['-c', `${command} 2>&1`], { encoding: 'utf8' }).stdout;
  return out.split('\n')[0]!.trim();
}

function machineFacts(): string {
  const cpu = cpus();
  const peers = [version('squid -v'), version('tinyproxy -v'), version('wrk -v')].filter(Boolean);
  return (
    `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ` +
    `node ${process.version}, ${process.platform}/${process.arch}, load average at the end ` +
    `${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n\nPeers: ${peers.join('; ') || 'none installed'}`
  );
}

/** Runs the section and prints its table; resolves false when egress missed a target. */
export async function runProxyBench(options: ProxyBenchOptions = {}): Promise<boolean> {
  const quick = options.quick ?? process.env.EGRESS_BENCH_QUICK === '1';
  const p = plan(quick);
  const repoRoot = join(here, '..', '..', '..');
  const work = mkdtempSync(join(tmpdir(), 'egress-proxy-bench-'));
  const ports = { origin: await freePort(), squid: await freePort(), tiny: await freePort() };
  const paths: BenchPaths = { repoRoot, work, originPort: ports.origin };
  preparePeerFiles(paths, { squid: ports.squid, tiny: ports.tiny });
  const nodeArgs = (process.env.EGRESS_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const origin = new Child('origin', [
    process.execPath,
    join(here, 'origin.js'),
    String(ports.origin),
  ]);
  const results: Results = {};
  try {
    await waitForPort(ports.origin);
    const targets: Target[] = [
      {
        column: 'egress',
        subject: egressSubject(paths, { nodeArgs }),
        steps: ['forward', 'tunnels', 'bulk', 'idle'],
      },
      {
        column: 'egress + audit log',
        subject: egressSubject(paths, { auditLog: join(work, 'audit.ndjson'), nodeArgs }),
        steps: ['forward', 'tunnels'],
      },
      {
        column: 'egress, 2 workers',
        subject: egressSubject(paths, { workers: 2, nodeArgs }),
        steps: ['forward', 'tunnels', 'bulk'],
      },
      {
        column: 'node floor',
        subject: floorSubject(paths),
        steps: ['forward', 'tunnels', 'bulk'],
      },
      {
        column: 'C ceiling',
        subject: ceilingSubject(paths),
        steps: ['forward', 'tunnels', 'bulk'],
      },
      {
        column: 'squid',
        subject: squidSubject(paths, ports.squid),
        steps: ['forward', 'tunnels', 'bulk', 'idle'],
      },
      {
        column: 'tinyproxy',
        subject: tinyproxySubject(paths, ports.tiny),
        steps: ['forward', 'tunnels', 'bulk'],
      },
      { column: 'direct', subject: 'direct', steps: ['forward', 'tunnels', 'bulk'] },
    ];
    for (const r of await measureAll(targets, paths, p, join(work, 'abs-uri.lua')))
      results[r.target.column] = r.result;
  } finally {
    await origin.stop();
    rmSync(work, { recursive: true, force: true });
  }
  results.tinyproxy?.notes.push('idle tunnels not measured (MaxClients 512 in its configuration)');
  const table = renderTable(results);
  process.stdout.write(
    `${machineFacts()}\n\nEach figure is the best of ${p.rounds} interleaved round(s)` +
      `${quick ? ' (quick run: shorter steps, 256 MiB bulk, 2,000 idle tunnels)' : ''}.\n\n${table.markdown}\n`,
  );
  const missed = table.targets.filter((t) => t.met === false);
  if (missed.length)
    process.stdout.write(
      `\nMissed targets: ${missed.map((t) => `${t.metric} (${t.target})`).join('; ')}\n`,
    );
  return missed.length === 0;
}
