/**
 * Benchmark runner (`npm run bench [-- SECTION ... ] [--quick]`).
 *
 * Each section measures egress against a baseline side by side in one run and prints a table
 * with ratios. With no section named, every section runs. Heap figures need `--expose-gc`: when
 * it is missing the runner starts itself again with it.
 *
 *   npm run bench                 every section
 *   npm run bench -- policy       the policy engine only
 *   npm run bench -- policy --sizes 1k,10k --quick
 *   npm run bench -- proxy        egress next to Squid, tinyproxy and a direct connection
 *   npm run bench -- sandbox      egress run: start-up overhead and throughput
 *   npm run bench -- control      the control-plane store: event ingestion and audit queries
 *   npm run bench -- control --events 10m
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_POLICY_BENCH, runPolicyBench } from './policy-engine.js';
import { runProxyBench } from './proxy/index.js';
import { runSandboxBench } from './sandbox.js';
import { runControlBench } from './control/index.js';

interface RunOptions {
  quick: boolean;
  sizes?: number[];
  /** How many audit events the control section loads. */
  events?: number;
}

interface Section {
  title: string;
  /** Prints the section's table; returns false when a target is missed. */
  run(options: RunOptions): boolean | Promise<boolean>;
}

const SECTIONS: Record<string, Section> = {
  policy: {
    title: 'Policy engine: egress (compilePolicy + decide) vs a linear scan over the same rules',
    run(options) {
      const result = runPolicyBench({
        ...DEFAULT_POLICY_BENCH,
        ...(options.sizes ? { sizes: options.sizes } : {}),
        ...(options.quick ? { throughputMs: 300, latencyMs: 200 } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      console.log(result.table);
      return result.targets.every((t) => t.met);
    },
  },
  proxy: {
    title: 'Proxy: egress vs Squid, tinyproxy and a direct connection (loopback origin)',
    run: (options) => runProxyBench({ quick: options.quick }),
  },
  sandbox: {
    title: 'Sandbox: egress run start-up over `true`, and throughput against the proxy directly',
    run: (options) => runSandboxBench({ quick: options.quick }),
  },
  control: {
    title: 'Control-plane store: audit event ingestion and queries on SQLite and PostgreSQL',
    run: (options) =>
      runControlBench({
        quick: options.quick,
        ...(options.events ? { events: options.events } : {}),
      }),
  },
};

/**
 * Waits (at most a minute) for the previous section's load to die down: the proxy section
 * leaves the machine at a load average of 3-4, and the next section's timings would measure
 * that instead of egress. Says what it waited for.
 */
async function settle(): Promise<string> {
  const started = Date.now();
  while (loadavg()[0]! > 1.5 && Date.now() - started < 60_000)
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  const waited = Math.round((Date.now() - started) / 1000);
  return `waited ${waited} s for the previous section's load to settle; 1-minute load average ${loadavg()[0]!.toFixed(2)}`;
}

function parseSize(text: string): number {
  const m = /^([0-9]+)([km]?)$/i.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a size (write 1000, 1k or 1m)`);
  const unit = m[2]!.toLowerCase();
  return Number(m[1]) * (unit === 'm' ? 1_000_000 : unit === 'k' ? 1000 : 1);
}

function parseArgs(argv: string[]): { sections: string[]; options: RunOptions } {
  const sections: string[] = [];
  const options: RunOptions = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--sizes') options.sizes = (argv[++i] ?? '').split(',').map(parseSize);
    else if (arg.startsWith('--sizes=')) options.sizes = arg.slice(8).split(',').map(parseSize);
    else if (arg === '--events') options.events = parseSize(argv[++i] ?? '');
    else if (arg.startsWith('--events=')) options.events = parseSize(arg.slice(9));
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else if (!(arg in SECTIONS))
      throw new Error(`unknown section "${arg}"; sections: ${Object.keys(SECTIONS).join(', ')}`);
    else sections.push(arg);
  }
  return { sections: sections.length ? sections : Object.keys(SECTIONS), options };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (
    typeof (globalThis as { gc?: unknown }).gc !== 'function' &&
    !process.env.EGRESS_BENCH_CHILD
  ) {
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...argv],
      { stdio: 'inherit', env: { ...process.env, EGRESS_BENCH_CHILD: '1' } },
    );
    return child.status ?? 1;
  }
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(
    `node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${load()}`,
  );
  let allMet = true;
  for (const [i, name] of parsed.sections.entries()) {
    const section = SECTIONS[name]!;
    console.log(`\n## ${section.title}\n`);
    if (i > 0) console.log(`(${await settle()}.)\n`);
    allMet = (await section.run(parsed.options)) && allMet;
  }
  // Other work on the machine moves these numbers a lot: show how busy it was.
  console.log(`\nload average at the end: ${load()}`);
  // A missed target is reported in the table; it does not fail the run (a disagreement does).
  if (!allMet) console.log('\nSome targets were not met (see above).');
  return 0;
}

process.exitCode = await main();
