/** Runs wrk (keep-alive HTTP load) and reads requests/s and latency percentiles from its output. */
import { spawn } from 'node:child_process';

export interface WrkOptions {
  /** URL wrk connects to: the proxy, or the origin for the direct row. */
  url: string;
  /** Absolute URI sent as the request target (forward-proxy form) via the Lua script. */
  absoluteTarget?: string;
  script?: string;
  threads: number;
  connections: number;
  seconds: number;
}

export interface WrkReport {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers other than 2xx/3xx. */
  non2xx: number;
  /** Connect, read, write errors and timeouts (a read error is also the proxy closing a connection). */
  socketErrors: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  if (unit === 'us') return n / 1000;
  if (unit === 's') return n * 1000;
  if (unit === 'm') return n * 60_000;
  return n;
}

export function parseWrk(output: string): WrkReport {
  const rps = /Requests\/sec:\s+([0-9.]+)/.exec(output);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([0-9.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const errors = socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  if (!rps) throw new Error(`could not read wrk's output:\n${output}`);
  return {
    requestsPerSecond: Number(rps[1]),
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: errors,
  };
}

export function runWrk(options: WrkOptions): Promise<WrkReport> {
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--latency',
    ...(options.script ? ['-s', options.script] : []),
    options.url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, {
      env: {
        ...process.env,
        ...(options.absoluteTarget ? { TARGET: options.absoluteTarget } : {}),
      },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.once('error', reject);
    child.once('exit', () => {
      try {
        resolve(parseWrk(out));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}
