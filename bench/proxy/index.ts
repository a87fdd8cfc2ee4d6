/**
 * Proxy benchmark (`npm run bench -- proxy`): egress next to Squid, tinyproxy and a direct
 * connection, in one run, against a loopback origin. Every party is its own process; egress is
 * the real CLI (`bin/egress proxy`). Prints one markdown table with ratios and the targets.
 *
 * Environment: EGRESS_BENCH_QUICK=1 (or `--quick`) shortens every step; EGRESS_BENCH_NODE_ARGS
 * adds node flags to the egress process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, commandExists, freePort, hardFileLimit, waitForPort } from './children.js';
import type { BulkReport, IdleReport, LoadConfig, TunnelsReport } from './load.js';
import {
  egressSubject,
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

function plan(quick: boolean) {
  return {
    wrkWarmupS: quick ? 1 : 2,
    wrkS: quick ? 3 : 8,
    tunnelWarmupMs: quick ? 500 : 1_000,
    tunnelMs: quick ? 2_000 : 5_000,
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
  steps: ('forward' | 'tunnels' | 'bulk' | 'idle')[];
}

async function measure(
  target: Target,
  paths: BenchPaths,
  p: ReturnType<typeof plan>,
  lua: string,
): Promise<SubjectResult> {
  const result: SubjectResult = { notes: [] };
  const origin = { host: '127.0.0.1', port: paths.originPort };
  const authority = `allowed.test:${paths.originPort}`;
  const direct = target.subject === 'direct';
  let running: { child: Child; port: number } | undefined;
  const attempt = async (step: string, body: () => Promise<void>) => {
    try {
      log(`${target.column}: ${step}`);
      await body();
    } catch (err) {
      result.notes.push(`${step} failed: ${(err as Error).message}`);
    }
  };
  try {
    if (!direct) running = await (target.subject as Subject).start();
    const proxy = running ? { host: '127.0.0.1', port: running.port } : undefined;
    for (const step of target.steps) {
      if (step === 'forward')
        await attempt('HTTP forward', async () => {
          if (!commandExists('wrk')) throw new Error('wrk is not installed (apt-get install wrk)');
          const url = proxy ? `http://127.0.0.1:${proxy.port}/` : `http://${authority}/`;
          const run = (seconds: number) =>
            runWrk({
              url: direct ? `http://127.0.0.1:${paths.originPort}/` : url,
              ...(direct ? {} : { script: lua, absoluteTarget: `http://${authority}/` }),
              threads: 1,
              connections: 32,
              seconds,
            });
          await run(p.wrkWarmupS);
          result.forward = await run(p.wrkS);
          if (result.forward.errors > 0)
            result.notes.push(`HTTP forward: ${result.forward.errors} errors or non-2xx answers`);
        });
      if (step === 'tunnels')
        await attempt('CONNECT tunnels', async () => {
          const child = load({
            mode: 'tunnels',
            ...(proxy ? { proxy } : {}),
            target: authority,
            origin,
            concurrency: p.tunnelConcurrency,
            warmupMs: p.tunnelWarmupMs,
            durationMs: p.tunnelMs,
          });
          result.tunnels = await child.report<TunnelsReport>(p.tunnelMs * 3 + 30_000);
          if (result.tunnels.failed > 0)
            result.notes.push(
              `CONNECT tunnels: ${result.tunnels.failed} failed (${result.tunnels.firstError})`,
            );
        });
      if (step === 'bulk')
        await attempt('bulk', async () => {
          const child = load({
            mode: 'bulk',
            ...(proxy ? { proxy } : {}),
            target: authority,
            origin,
            bytes: p.bulkBytes,
          });
          result.bulk = await child.report<BulkReport>(60_000);
        });
      if (step === 'idle' && running)
        await attempt('idle tunnels', async () => {
          // A fresh process, so the figure is not the heap left over from the load above.
          await running!.child.stop();
          running = await (target.subject as Subject).start();
          await new Promise((r) => setTimeout(r, 500));
          const rssBeforeMb = running.child.rssMb();
          const child = load({
            mode: 'idle',
            proxy: { host: '127.0.0.1', port: running.port },
            target: authority,
            origin,
            count: p.idleTunnels,
            concurrency: 200,
          });
          try {
            const idle = await child.firstJsonLine<IdleReport>(90_000);
            await new Promise((r) => setTimeout(r, 1_000));
            const rssMb = running.child.rssMb();
            const perTunnel = (rssMb - rssBeforeMb) / Math.max(1, idle.opened);
            result.idle = {
              tunnels: idle.opened,
              rssBeforeMb,
              rssMb,
              rssAt10kMb: idle.opened >= 10_000 ? rssMb : rssBeforeMb + perTunnel * 10_000,
            };
            if (idle.failed > 0)
              result.notes.push(`idle tunnels: ${idle.failed} failed (${idle.firstError})`);
            if (idle.opened < 10_000)
              result.notes.push(
                `idle tunnels: ${idle.opened.toLocaleString('en-US')} held (open-file hard limit ` +
                  `${hardFileLimit()}, two sockets per tunnel); the 10,000 figure is scaled linearly`,
              );
          } finally {
            await child.stop();
          }
        });
    }
  } catch (err) {
    result.notes.push((err as Error).message);
  } finally {
    await running?.child.stop();
  }
  return result;
}

function machineFacts(): string {
  const cpu = cpus();
  return (
    `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ` +
    `node ${process.version}, ${process.platform}/${process.arch}`
  );
}

export async function runProxyBench(options: ProxyBenchOptions = {}): Promise<void> {
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
    for (const target of targets) {
      const missing = target.subject === 'direct' ? null : target.subject.missing;
      results[target.column] = missing
        ? { notes: [`skipped: ${missing}`] }
        : await measure(target, paths, p, join(work, 'abs-uri.lua'));
    }
  } finally {
    await origin.stop();
    rmSync(work, { recursive: true, force: true });
  }
  results.tinyproxy?.notes.push('idle tunnels not measured (MaxClients 512 in its configuration)');
  const table = renderTable(results);
  process.stdout.write(
    `\n### Proxy: egress vs Squid, tinyproxy and direct (loopback origin)\n\n` +
      `${machineFacts()}${quick ? ', quick run (shorter steps)' : ''}\n\n${table.markdown}\n`,
  );
  const missed = table.targets.filter((t) => t.met === false);
  if (missed.length)
    process.stdout.write(
      `\nMissed targets: ${missed.map((t) => `${t.metric} (${t.target})`).join('; ')}\n`,
    );
}
