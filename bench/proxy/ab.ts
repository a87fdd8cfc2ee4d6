/**
 * A/B comparison of egress builds or environments (for speed work, not part of `npm run bench`):
 *
 *   node dist/bench/proxy/ab.js ROUNDS NAME=ROOT[,ENV=VALUE...] NAME=ROOT ...
 *
 * `NAME=@floor` runs bench/proxy/floor-proxy.ts instead: a Node proxy that does nothing but relay.
 *
 * Every variant runs at once (`ROOT/bin/egress proxy`, the bench policy); each round runs the
 * forward, tunnels and bulk steps on every variant in turn (the order rotates per round), so the
 * machine's background load falls on all of them alike. Prints one line per step and variant
 * with the figure and the proxy's CPU time per unit (from /proc/PID/stat), then the medians.
 */
import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, freePort, waitForPort } from './children.js';
import type { BulkReport, LoadConfig, TunnelsReport } from './load.js';
import { runWrk } from './wrk.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Variant {
  name: string;
  root: string;
  env: Record<string, string>;
  child?: Child;
  port?: number;
}

function parseVariant(text: string): Variant {
  const [head, ...envs] = text.split(',');
  const [name, root] = head!.split('=');
  const env: Record<string, string> = {};
  for (const e of envs) {
    const i = e.indexOf('=');
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  return { name: name!, root: root!, env };
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + ownCpuSeconds(p), 0);
}

function ownCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The pids of `pid` and its children (the workers of `egress proxy --workers N`). */
function processTree(pid: number): number[] {
  const pids = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function minorFaults(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[7]);
}

function load(config: LoadConfig): Child {
  return new Child(`load ${config.mode}`, [
    process.execPath,
    join(here, 'load.js'),
    JSON.stringify(config),
  ]);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

async function main() {
  const rounds = Number(process.argv[2]);
  const steps = (process.env.AB_STEPS ?? 'forward,tunnels,bulk').split(',');
  const variants = process.argv.slice(3).map(parseVariant);
  const work = mkdtempSync(join(tmpdir(), 'egress-ab-'));
  const originPort = await freePort();
  const origin = new Child('origin', [
    process.execPath,
    join(here, 'origin.js'),
    String(originPort),
  ]);
  const policy = join(work, 'policy.yaml');
  writeFileSync(
    policy,
    'version: 1\nname: ab\nmode: restrict\ndefault: deny\nrules:\n  - allow: [allowed.test, "127.0.0.1"]\n',
  );
  const lua = join(here, '..', '..', '..', 'bench', 'proxy', 'peers', 'abs-uri.lua');
  const results: Record<string, Record<string, number[]>> = {};
  const record = (v: string, k: string, x: number) => {
    ((results[v] ??= {})[k] ??= []).push(x);
  };
  try {
    await waitForPort(originPort);
    for (const v of variants) {
      v.port = await freePort();
      v.child = new Child(
        v.name,
        [
          process.execPath,
          ...(process.env.AB_NODE_ARGS ?? '').split(' ').filter(Boolean),
          v.root === '@floor' ? join(here, 'floor-proxy.js') : join(v.root, 'bin', 'egress'),
          'proxy',
          '--policy',
          policy,
          '--listen',
          `127.0.0.1:${v.port}`,
          '--resolve',
          'allowed.test=127.0.0.1',
          '--log-level',
          'error',
          ...(v.env.EGRESS_ARGS ?? '').split(' ').filter(Boolean),
        ],
        { env: v.env },
      );
      await waitForPort(v.port, 15_000);
    }
    const target = `allowed.test:${originPort}`;
    for (let round = 0; round < rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      for (const step of steps)
        for (const v of order) {
          const pid = v.child!.pid;
          const cpu0 = cpuSeconds(pid);
          const faults0 = minorFaults(pid);
          let units = 0;
          let figure = 0;
          if (step === 'forward') {
            if (round === 0)
              await runWrk({
                url: `http://127.0.0.1:${v.port}/`,
                script: lua,
                absoluteTarget: `http://${target}/`,
                threads: 1,
                connections: 32,
                seconds: 1,
              });
            const c0 = cpuSeconds(pid);
            const r = await runWrk({
              url: `http://127.0.0.1:${v.port}/`,
              script: lua,
              absoluteTarget: `http://${target}/`,
              threads: 1,
              connections: 32,
              seconds: 4,
            });
            figure = r.requestsPerSecond;
            units = r.requestsPerSecond * 4;
            const us = ((cpuSeconds(pid) - c0) / units) * 1e6;
            record(v.name, 'forward req/s', figure);
            record(v.name, 'forward µs/req', us);
            console.log(
              `r${round} ${v.name} forward ${figure.toFixed(0)} req/s ${us.toFixed(0)} µs/req`,
            );
          } else if (step === 'tunnels') {
            const child = load({
              mode: 'tunnels',
              proxy: { host: '127.0.0.1', port: v.port! },
              target,
              origin: { host: '127.0.0.1', port: originPort },
              concurrency: 32,
              warmupMs: 0,
              durationMs: 3_000,
            });
            const r = await child.report<TunnelsReport>(60_000);
            const us = ((cpuSeconds(pid) - cpu0) / r.completed) * 1e6;
            record(v.name, 'tunnels/s', r.perSecond);
            record(v.name, 'tunnel µs', us);
            console.log(
              `r${round} ${v.name} tunnels ${r.perSecond.toFixed(0)}/s ${us.toFixed(0)} µs/tunnel failed ${r.failed}`,
            );
          } else if (step === 'bulk') {
            const bytes = Number(process.env.AB_BULK_BYTES ?? 1024 * 1024 * 1024);
            const child = load({
              mode: 'bulk',
              proxy: { host: '127.0.0.1', port: v.port! },
              target,
              origin: { host: '127.0.0.1', port: originPort },
              bytes,
            });
            const r = await child.report<BulkReport>(120_000);
            const gib = bytes / 2 ** 30;
            const cpu = (cpuSeconds(pid) - cpu0) / gib;
            const faults = (minorFaults(pid) - faults0) / gib;
            record(v.name, 'bulk MB/s', r.mbPerSecond);
            record(v.name, 'bulk CPU s/GiB', cpu);
            record(v.name, 'bulk faults/GiB', faults);
            console.log(
              `r${round} ${v.name} bulk ${r.mbPerSecond.toFixed(0)} MB/s ${cpu.toFixed(2)} CPU s/GiB ${faults.toFixed(0)} faults/GiB`,
            );
          }
        }
    }
  } finally {
    for (const v of variants) await v.child?.stop();
    await origin.stop();
    rmSync(work, { recursive: true, force: true });
  }
  console.log('\nmedians (min–max):');
  for (const [name, metrics] of Object.entries(results))
    for (const [k, xs] of Object.entries(metrics))
      console.log(
        `${name.padEnd(12)} ${k.padEnd(16)} ${median(xs).toFixed(k.includes('s/GiB') ? 2 : 0)} (${Math.min(...xs).toFixed(k.includes('s/GiB') ? 2 : 0)}–${Math.max(...xs).toFixed(k.includes('s/GiB') ? 2 : 0)})`,
      );
}

await main();
