/**
 * Runs real clients (curl, git, python3, bin/egress) without blocking the event loop: the proxy
 * under test usually runs in the test process. Nothing here throws on a failed command; the
 * exit code is in the result for the test to assert on.
 */
import { execFile } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` to completion; `code` is its exit status (1 if it could not run or timed out). */
export function run(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      {
        env: options.env ?? process.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 20_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as NodeJS.ErrnoException).code === 'number'
            ? (err as unknown as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** curl in silent mode that still shows errors, giving up after `timeoutMs`. */
export function curl(args: string[], timeoutMs = 10_000): Promise<RunResult> {
  return run(
    'curl',
    ['--silent', '--show-error', '--max-time', String(timeoutMs / 1000), ...args],
    {
      timeoutMs: timeoutMs + 10_000,
    },
  );
}

/**
 * curl through `proxyUrl` printing only "STATUS REASON" (REASON from x-egress-reason, empty when
 * the proxy sent none), e.g. "403 default_deny" or "200 ".
 */
export function curlStatus(
  proxyUrl: string,
  url: string,
  extra: string[] = [],
): Promise<RunResult> {
  return run('curl', [
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code} %header{x-egress-reason}',
    '-x',
    proxyUrl,
    ...extra,
    url,
  ]);
}

/** The environment a client needs to use only our proxy (and no other). */
export function proxyEnv(proxyUrl: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
  };
  for (const name of [
    'http_proxy',
    'https_proxy',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'ALL_PROXY',
    'all_proxy',
  ])
    env[name] = proxyUrl;
  env.NO_PROXY = '';
  env.no_proxy = '';
  return { ...env, ...extra };
}
