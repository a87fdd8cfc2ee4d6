/**
 * The proxies measured side by side: egress (the real CLI in a child process), Squid and
 * tinyproxy with the reference configurations in ./peers (copied into a temporary folder with
 * its path and the ports filled in). A peer whose binary is missing is skipped with a note.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Child, commandExists, freePort, waitForPort } from './children.js';

export interface Subject {
  /** Column title in the table. */
  name: string;
  /** Why it cannot run here, or null. */
  missing: string | null;
  /** Starts a fresh instance and resolves once it accepts connections. */
  start(): Promise<{ child: Child; port: number }>;
}

export interface BenchPaths {
  repoRoot: string;
  /** Temporary folder (world-readable: Squid and tinyproxy drop privileges). */
  work: string;
  originPort: number;
}

/** The peers' reference files with PEERS_DIR and the example ports replaced. */
export function preparePeerFiles(paths: BenchPaths, ports: { squid: number; tiny: number }): void {
  const source = join(paths.repoRoot, 'bench', 'proxy', 'peers');
  for (const name of readdirSync(source)) {
    const text = readFileSync(join(source, name), 'utf8')
      .replaceAll('PEERS_DIR', paths.work)
      .replaceAll('38640', String(ports.squid))
      .replaceAll('38641', String(ports.tiny))
      .replaceAll('38650', String(paths.originPort))
      .replaceAll('38651', String(paths.originPort));
    writeFileSync(join(paths.work, name), text);
  }
  chmodSync(paths.work, 0o755);
  mkdirSync(join(paths.work, 'run'), { recursive: true });
  chmodSync(join(paths.work, 'run'), 0o1777);
}

async function started(child: Child, port: number): Promise<{ child: Child; port: number }> {
  try {
    await Promise.race([
      waitForPort(port, 15_000),
      child.exited.then((code) => {
        throw new Error(`exited with ${code}: ${child.stderr.trim().slice(-400)}`);
      }),
    ]);
  } catch (err) {
    await child.stop();
    throw new Error(`${child.name} did not start: ${(err as Error).message}`);
  }
  return { child, port };
}

export function egressSubject(
  paths: BenchPaths,
  options: { auditLog?: string; nodeArgs?: string[]; workers?: number } = {},
): Subject {
  const policy = join(paths.work, 'egress-policy.yaml');
  writeFileSync(
    policy,
    [
      'version: 1',
      'name: proxy-bench',
      'mode: restrict',
      'default: deny',
      'rules:',
      '  - allow: [allowed.test, "127.0.0.1"]',
      '',
    ].join('\n'),
  );
  return {
    name: options.auditLog
      ? 'egress + audit log'
      : options.workers
        ? `egress, ${options.workers} workers`
        : 'egress',
    missing: null,
    async start() {
      const port = await freePort();
      const child = new Child(options.auditLog ? 'egress (audit log)' : 'egress', [
        process.execPath,
        ...(options.nodeArgs ?? []),
        join(paths.repoRoot, 'bin', 'egress'),
        'proxy',
        '--policy',
        policy,
        '--listen',
        `127.0.0.1:${port}`,
        '--resolve',
        'allowed.test=127.0.0.1',
        '--log-level',
        'error',
        ...(options.auditLog ? ['--audit-log', options.auditLog] : []),
        ...(options.workers ? ['--workers', String(options.workers)] : []),
      ]);
      return started(child, port);
    },
  };
}

/**
 * The least a Node proxy can do (floor-proxy.ts: node:http + undici, net + pipe; no policy, no
 * events): what egress costs above it is its own work, what it costs is Node's I/O layer.
 */
export function floorSubject(paths: BenchPaths): Subject {
  return {
    name: 'node floor',
    missing: null,
    async start() {
      const port = await freePort();
      const child = new Child('node floor', [
        process.execPath,
        join(paths.repoRoot, 'dist', 'bench', 'proxy', 'floor-proxy.js'),
        '--listen',
        `127.0.0.1:${port}`,
        '--resolve',
        'allowed.test=127.0.0.1',
      ]);
      return started(child, port);
    },
  };
}

/**
 * The ceiling (peers/ceiling-proxy.c, compiled here with the machine's C compiler): one thread,
 * epoll, no policy, no DNS, no logs. Not a proxy anyone should run; it shows what any proxy
 * can reach on this machine under this load, since the load tool and the origin share it.
 */
export function ceilingSubject(paths: BenchPaths): Subject {
  const compiler = ['cc', 'gcc', 'clang'].find(commandExists);
  return {
    name: 'C ceiling',
    missing: compiler ? null : 'no C compiler (apt-get install -y gcc)',
    async start() {
      const binary = join(paths.work, 'ceiling-proxy');
      const source = join(paths.repoRoot, 'bench', 'proxy', 'peers', 'ceiling-proxy.c');
      const build = spawnSync(compiler!, ['-O2', '-o', binary, source], { encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`ceiling-proxy did not compile: ${build.stderr}`);
      const port = await freePort();
      return started(new Child('C ceiling', [binary, String(port)]), port);
    },
  };
}

export function squidSubject(paths: BenchPaths, port: number): Subject {
  return {
    name: 'squid',
    missing: commandExists('squid') ? null : 'squid is not installed (apt-get install -y squid)',
    async start() {
      const child = new Child('squid', ['squid', '-N', '-f', join(paths.work, 'squid.conf')]);
      return started(child, port);
    },
  };
}

export function tinyproxySubject(paths: BenchPaths, port: number): Subject {
  const missing = !commandExists('tinyproxy')
    ? 'tinyproxy is not installed (apt-get install -y tinyproxy)'
    : !commandExists('unshare')
      ? 'unshare is missing (tinyproxy needs a private /etc/hosts)'
      : null;
  return {
    name: 'tinyproxy',
    missing,
    async start() {
      const child = new Child('tinyproxy', ['sh', join(paths.work, 'start-tinyproxy.sh')]);
      return started(child, port);
    },
  };
}
