/**
 * `egress proxy` runs with glibc's malloc told to keep freed memory instead of returning it to
 * the kernel after every garbage collection.
 *
 * Why: Node reads every socket chunk into a freshly allocated 64 KiB buffer; after each garbage
 * collection glibc trims the freed buffers off its heap and the next ones fault their pages back
 * in (tens to hundreds of thousands of minor page faults per GiB relayed). With
 * GLIBC_TUNABLES=glibc.malloc.trim_threshold=256MiB:glibc.malloc.top_pad=64MiB the proxy's CPU
 * per GiB tunnelled roughly halves (docs/performance.md, "Proxy"). glibc reads the tunables only
 * at process start and Node 20 cannot exec, so the launcher starts the proxy once more as its
 * child with the variable set, forwards signals to it and exits with its status. Only the
 * long-running `proxy` command does this (start-up time matters for the others), only on glibc,
 * and never when GLIBC_TUNABLES is already set or EGRESS_MALLOC_TUNING=off.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export const MALLOC_TUNABLES =
  'glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=67108864';

/** Marks the relaunched child (it must not relaunch again). */
const CHILD_MARK = 'EGRESS_MALLOC_TUNED';

/** The signals `egress proxy` acts on (SIGUSR1 stays Node's: it starts the inspector). */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

function isGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })
    ?.header;
  return typeof header?.glibcVersionRuntime === 'string';
}

export function wantsMallocTuning(args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return (
    args[0] === 'proxy' &&
    env.GLIBC_TUNABLES === undefined &&
    env[CHILD_MARK] === undefined &&
    env.EGRESS_MALLOC_TUNING !== 'off' &&
    isGlibc()
  );
}

/**
 * Runs `script args` in a child Node process with the tunables set; resolves with the exit code
 * to use (a child killed by a signal is reported as 128 + signal number, like a shell).
 */
export function runTuned(script: string, args: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
    // Its own process group: a terminal's Ctrl-C reaches the launcher only, which forwards it
    // once (a second SIGINT would skip the drain). The IPC channel lets the child notice a
    // launcher that died without forwarding anything (SIGKILL).
    detached: true,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, GLIBC_TUNABLES: MALLOC_TUNABLES, [CHILD_MARK]: '1' },
  });
  const forward = (signal: NodeJS.Signals) => () => {
    child.kill(signal);
  };
  const handlers = FORWARDED.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`egress: could not start the proxy process: ${err.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      for (const [s, handler] of handlers) process.off(s, handler);
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

/** In the relaunched child: exit (with the usual drain) when the launcher is gone. */
export function watchLauncher(): void {
  if (process.env[CHILD_MARK] === undefined || !process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
