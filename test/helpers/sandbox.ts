/**
 * `egress run` as users run it: bin/egress in a child process (never in-process), a policy
 * file in a temp folder readable by every user (the ordinary-user tests run as nobody), and
 * the audit log read back.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/protocol/audit-event.js';

export interface RunOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface EgressRunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Runs the whole `egress run` through this prefix (e.g. setpriv ... to be nobody). */
  prefix?: string[];
  onSpawn?: (child: ChildProcess) => void;
  /** Its own process group (to signal the group as a terminal would). */
  detached?: boolean;
}

/** `bin/egress run ARGS` (ARGS include the policy flags, `--` and the command). */
export function egressRun(args: string[], options: EgressRunOptions = {}): Promise<RunOutcome> {
  const argv = [...(options.prefix ?? []), process.execPath, 'bin/egress', 'run', ...args];
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    options.onSpawn?.(child);
  });
}

/** A temp folder every user can read (and write: nobody's audit log goes there). */
export function sharedTempDir(prefix = 'egress-sandbox-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o777);
  return dir;
}

export function writePolicy(dir: string, yaml: string, name = 'policy.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, yaml, { mode: 0o644 });
  return path;
}

/** The restrict policy most tests use: allowed.test and the loopback origin address. */
export function restrictPolicy(extra = ''): string {
  return `version: 1
name: sandbox-test
mode: restrict
default: deny
rules:
  - allow:
      - allowed.test
      - "127.0.0.2"
${extra}`;
}

export function readEvents(path: string): AuditEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEvent);
}

/** Processes whose command line contains `marker` (to prove nothing was left behind). */
export function processesWith(marker: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(marker) && Number(pid) !== process.pid) out.push(`${pid}: ${cmd}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

export function commandExists(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, name)));
}

/**
 * A git repository with one commit at DIR/work, cloned bare to DIR/served/repo.git and ready to
 * be served over "dumb" HTTP (git fetches its files as they are).
 */
export function servedGitRepo(dir: string): void {
  const work = join(dir, 'work');
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@t',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@t',
  };
  const git = (args: string[], cwd = work) =>
    execFileSync('git', args, { cwd, stdio: 'ignore', env });
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  execFileSync('sh', ['-c', `echo hello > ${work}/README`]);
  git(['add', 'README']);
  git(['commit', '-q', '-m', 'first']);
  git(['clone', '-q', '--bare', work, join(dir, 'served', 'repo.git')], dir);
  git(['update-server-info'], join(dir, 'served', 'repo.git'));
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for flags that need a fixed port). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
