/**
 * Drives a real `egress serve` process: started on port 0 in a temporary data directory, its
 * listening address read from its output, stopped with SIGTERM (or killed with SIGKILL by fault
 * tests). `api()` is a small fetch wrapper that sends the bearer token and parses the answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  dataDir: string;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

export function tempDataDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'egress-serve-')), 'data');
}

export async function startServe(
  options: { dataDir?: string; env?: NodeJS.ProcessEnv; args?: string[]; timeoutMs?: number } = {},
): Promise<ServeProcess> {
  const dataDir = options.dataDir ?? tempDataDir();
  const child = spawn(
    process.execPath,
    [
      'bin/egress',
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      dataDir,
      ...(options.args ?? []),
    ],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`egress serve did not start in time:\n${out}\n${err}`)),
      options.timeoutMs ?? 20_000,
    );
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`egress serve exited with ${code}:\n${out}\n${err}`));
    });
  });
  return {
    child,
    url,
    dataDir,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A client of the API at `base` with a bearer token. */
export function apiClient(base: string, token: string | undefined) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked field by field in the tests
  return async function api<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> {
    const init: RequestInit = {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined
        ? { body: typeof body === 'string' ? body : JSON.stringify(body) }
        : {}),
    };
    const res = await fetch(base + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  };
}

export type Api = ReturnType<typeof apiClient>;
