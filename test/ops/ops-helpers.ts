/** Small helpers for the operations tests: requests through a proxy, decider webhooks, children. */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** GET an absolute URL through the proxy (plain HTTP forward). */
export function proxyGet(proxyPort: number, url: string, auth?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: proxyPort,
      method: 'GET',
      path: url,
      headers: {
        host: new URL(url).host,
        ...(auth ? { 'proxy-authorization': `Basic ${Buffer.from(auth).toString('base64')}` } : {}),
      },
      agent: false,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

export interface Webhook {
  url: string;
  calls: unknown[];
  close(): Promise<void>;
}

/** A decider webhook on `host` answering with `handler`. */
export async function startWebhook(
  host: string,
  handler: (body: unknown, res: ServerResponse) => void,
): Promise<Webhook> {
  const calls: unknown[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as unknown;
      calls.push(body);
      handler(body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/decide`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, value: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

export interface Child {
  process: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts `bin/egress ARGS...` and waits until stderr contains `ready`. */
export async function startEgress(
  args: string[],
  ready = 'egress proxy listening on ',
): Promise<Child> {
  const child = spawn(process.execPath, ['bin/egress', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 10_000;
  while (!err.includes(ready)) {
    if (child.exitCode !== null) throw new Error(`egress exited early: ${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`egress did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { process: child, stderr: () => err, exited };
}

/** The proxy port from the "listening on HOST:PORT" line. */
export function listenPort(stderr: string, what = 'egress proxy listening on'): number {
  const m = new RegExp(`${what} [^ ]*:([0-9]+)`).exec(stderr);
  if (!m) throw new Error(`no port in: ${stderr}`);
  return Number(m[1]);
}
