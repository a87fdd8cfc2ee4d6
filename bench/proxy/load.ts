/**
 * The benchmark's load generator, run as its own process: `node load.js JSON`. It prints one JSON
 * line with its report on stdout.
 *
 *   tunnels  N workers for a fixed time, each: connect, CONNECT, read 200, one request through
 *            the tunnel (Connection: close), read to the end; or the same request straight to the
 *            origin when no proxy is given
 *   bulk     one tunnel (or a direct connection), GET /bulk?bytes=N, count bytes to the end
 *   idle     open `count` tunnels, one keep-alive request through each, then hold them until
 *            stdin closes or SIGTERM (prints its report once they are all open)
 */
import { connect, type Socket } from 'node:net';

export interface LoadConfig {
  mode: 'tunnels' | 'bulk' | 'idle';
  /** The proxy; absent = straight to the origin. */
  proxy?: { host: string; port: number };
  /** CONNECT authority, e.g. allowed.test:8080. */
  target: string;
  origin: { host: string; port: number };
  concurrency?: number;
  durationMs?: number;
  warmupMs?: number;
  bytes?: number;
  count?: number;
}

export interface TunnelsReport {
  completed: number;
  failed: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  firstError?: string;
}

export interface BulkReport {
  bytes: number;
  seconds: number;
  mbPerSecond: number;
}

export interface IdleReport {
  opened: number;
  failed: number;
  seconds: number;
  firstError?: string;
}

const HEAD_END = '\r\n\r\n';

/**
 * Opens a connection ready for HTTP to the origin: through a CONNECT tunnel when a proxy is
 * configured (resolving after its 2xx answer), straight otherwise.
 */
function openPath(config: LoadConfig): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const via = config.proxy ?? config.origin;
    const socket = connect({ host: via.host, port: via.port, noDelay: true });
    socket.once('error', reject);
    if (!config.proxy) {
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      return;
    }
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf(HEAD_END);
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      if (!/^HTTP\/1\.[01] 2/.test(head)) {
        socket.destroy();
        reject(new Error(`CONNECT refused: ${head.split('\r\n')[0]}`));
        return;
      }
      if (end + 4 < head.length) socket.unshift(Buffer.from(head.slice(end + 4), 'latin1'));
      resolve(socket);
    };
    socket.on('data', onData);
    socket.once('connect', () =>
      socket.write(`CONNECT ${config.target} HTTP/1.1\r\nHost: ${config.target}\r\n\r\n`),
    );
  });
}

function request(path: string, config: LoadConfig, close: boolean): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${config.target}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
}

/** Sends one request with Connection: close and reads to the end; resolves with the body size. */
function exchangeToEnd(socket: Socket, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let first: Buffer | undefined;
    socket.on('data', (chunk: Buffer) => {
      first ??= chunk;
      bytes += chunk.length;
    });
    socket.once('error', reject);
    socket.once('close', () => {
      const head = first?.toString('latin1', 0, Math.min(first.length, 4096)) ?? '';
      if (head.startsWith('HTTP/1.1 200') && head.includes(HEAD_END))
        resolve(bytes - head.indexOf(HEAD_END) - 4);
      else reject(new Error(`bad response: ${first?.toString('latin1', 0, 40) ?? '(none)'}`));
    });
    socket.write(text);
  });
}

/** Sends one keep-alive request and resolves once its short response (`ok\n`) has arrived. */
function exchangeKeepAlive(socket: Socket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer) => {
      got += chunk.toString('latin1');
      const end = got.indexOf(HEAD_END);
      if (end >= 0 && got.length >= end + 4 + 3) {
        socket.off('data', onData);
        if (got.startsWith('HTTP/1.1 200')) resolve();
        else reject(new Error(`bad response: ${got.slice(0, 40)}`));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runTunnels(config: LoadConfig): Promise<TunnelsReport> {
  const warmupEnd = performance.now() + (config.warmupMs ?? 0);
  const end = warmupEnd + (config.durationMs ?? 5_000);
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const text = request('/', config, true);
  const worker = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      try {
        const socket = await openPath(config);
        await exchangeToEnd(socket, text);
        if (started >= warmupEnd) latencies.push(performance.now() - started);
      } catch (err) {
        if (started >= warmupEnd) failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency ?? 32 }, worker));
  const seconds = (performance.now() - warmupEnd) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    completed: latencies.length,
    failed,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    ...(firstError ? { firstError } : {}),
  };
}

async function runBulk(config: LoadConfig): Promise<BulkReport> {
  const bytes = config.bytes ?? 1 << 30;
  const socket = await openPath(config);
  const started = performance.now();
  const read = await exchangeToEnd(socket, request(`/bulk?bytes=${bytes}`, config, true));
  const seconds = (performance.now() - started) / 1000;
  if (read < bytes) throw new Error(`only ${read} of ${bytes} bytes arrived`);
  return { bytes, seconds, mbPerSecond: bytes / 1e6 / seconds };
}

async function runIdle(config: LoadConfig): Promise<void> {
  const count = config.count ?? 10_000;
  const held: Socket[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  const text = request('/', config, false);
  const worker = async () => {
    while (next < count) {
      next++;
      try {
        const socket = await openPath(config);
        await exchangeKeepAlive(socket, text);
        socket.on('error', () => undefined);
        held.push(socket);
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency ?? 200 }, worker));
  const report: IdleReport = {
    opened: held.length,
    failed,
    seconds: (performance.now() - started) / 1000,
    ...(firstError ? { firstError } : {}),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  const release = () => {
    for (const s of held) s.destroy();
    process.exit(0);
  };
  process.stdin.on('close', release);
  process.stdin.resume();
  process.on('SIGTERM', release);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
  if (config.mode === 'idle') return runIdle(config);
  const report = config.mode === 'bulk' ? await runBulk(config) : await runTunnels(config);
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

if (process.argv[1]?.endsWith('load.js')) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
