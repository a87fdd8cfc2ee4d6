/**
 * Child processes of the proxy benchmark: every server and load generator runs in its own
 * process (so none shares an event loop with another), with the open-file limit raised to the
 * hard limit, and is stopped by its own pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** The hard open-file limit children can raise themselves to (root without CAP_SYS_RESOURCE cannot go higher). */
export function hardFileLimit(): number {
  const out = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? 1_048_576 : Number(out) || 1024;
}

export function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

/**
 * A port that was free a moment ago on 127.0.0.1, below Linux's ephemeral range (32768+): the
 * load steps open tens of thousands of outgoing connections, and one of them can hold an
 * ephemeral port by the time a peer restarts on it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port found between 20000 and 32000');
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class Child {
  private readonly proc: ChildProcess;
  private stderrText = '';
  private stdoutText = '';
  readonly exited: Promise<number | null>;

  /** Runs `command` through `sh -c 'ulimit -n HARD; exec command'`, so `pid` is the program's own. */
  constructor(
    readonly name: string,
    command: string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
  ) {
    const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    this.proc = spawn('sh', ['-c', `ulimit -n "$(ulimit -Hn)"; exec ${quoted}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    this.proc.stdout!.setEncoding('utf8').on('data', (t: string) => (this.stdoutText += t));
    this.proc.stderr!.setEncoding('utf8').on('data', (t: string) => (this.stderrText += t));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get stdout(): string {
    return this.stdoutText;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Resolves with the first stdout line that parses as JSON (the load generator's report). */
  async firstJsonLine<T>(timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.stdoutText.split('\n').find((l) => l.startsWith('{'));
      if (line && this.stdoutText.includes('\n', this.stdoutText.indexOf(line)))
        return JSON.parse(line) as T;
      if (this.proc.exitCode !== null || Date.now() > deadline)
        throw new Error(`${this.name} gave no report: ${this.stderrText.trim().slice(-400)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits for the process to exit by itself and returns its JSON report. */
  async report<T>(timeoutMs: number): Promise<T> {
    const code = await Promise.race([
      this.exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs)),
    ]);
    if (code === 'timeout') {
      await this.stop();
      throw new Error(`${this.name} did not finish within ${timeoutMs} ms`);
    }
    return this.firstJsonLine<T>(0);
  }

  /** Resident set size in MB, from /proc/PID/status. */
  rssMb(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+([0-9]+) kB/.exec(status)?.[1] ?? NaN);
    return kb / 1024;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
