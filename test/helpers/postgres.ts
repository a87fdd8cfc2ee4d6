/**
 * A real PostgreSQL for tests. `EGRESS_TEST_PG_URL` (a server you run; the test creates and
 * drops its own database on it) wins; otherwise, when Debian's server binaries are installed
 * (`/usr/lib/postgresql/<version>/bin/initdb`), a throw-away cluster is created in a temp
 * directory on a free loopback port (as the postgres user when running as root: the server
 * refuses root) and removed at the end. Without either the tests are skipped with the
 * package to install.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const WITHOUT_POSTGRES_MESSAGE =
  "install Debian's postgresql package to run the PostgreSQL store tests";

function findBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/** false when PostgreSQL tests can run; else why they are skipped (node:test `skip`). */
export function withoutPostgres(): string | false {
  if (process.env.EGRESS_TEST_PG_URL) return false;
  return findBinDir() ? false : WITHOUT_POSTGRES_MESSAGE;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface PostgresServer {
  /** The URL of a fresh, empty database (created now; dropped or removed by `stop`). */
  createDatabase(): Promise<string>;
  /** Crash-stops the server (like a power cut to the process: `pg_ctl stop -m immediate`). */
  crash(): void;
  /** Starts it again on the same data directory and port. Throw-away clusters only. */
  restart(): void;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** fsync on every commit. Off by default in tests (the OS keeps the data through a process crash). */
  fsync?: boolean;
}

/** Runs a server binary as the postgres user when root (PostgreSQL refuses to run as root). */
function runPg(bin: string, args: string[]): void {
  const asRoot = userInfo().uid === 0;
  const command = asRoot ? 'runuser' : bin;
  const argv = asRoot ? ['-u', 'postgres', '--', bin, ...args] : args;
  const result = spawnSync(command, argv, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) {
    throw new Error(
      `${bin} ${args.join(' ')} failed: ${result.stderr || result.stdout || result.error?.message}`,
    );
  }
}

let databaseCounter = 0;

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** An existing server at `EGRESS_TEST_PG_URL`: databases are created and dropped on it. */
function externalServer(adminUrl: string): PostgresServer {
  const created: string[] = [];
  return {
    async createDatabase() {
      const name = `egress_test_${process.pid}_${Date.now()}_${databaseCounter++}`;
      await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
      created.push(name);
      return databaseUrl(adminUrl, name);
    },
    crash() {
      throw new Error('cannot crash an external PostgreSQL (EGRESS_TEST_PG_URL)');
    },
    restart() {
      throw new Error('cannot restart an external PostgreSQL (EGRESS_TEST_PG_URL)');
    },
    async stop() {
      for (const name of created.splice(0)) {
        await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      }
    },
  };
}

/** Whether crash()/restart() work (a throw-away cluster, not EGRESS_TEST_PG_URL). */
export function canCrashPostgres(): boolean {
  return !process.env.EGRESS_TEST_PG_URL;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  if (process.env.EGRESS_TEST_PG_URL) return externalServer(process.env.EGRESS_TEST_PG_URL);
  const bin = findBinDir();
  if (!bin) throw new Error(WITHOUT_POSTGRES_MESSAGE);
  const dir = mkdtempSync(join(tmpdir(), 'egress-pg-'));
  const data = join(dir, 'data');
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  runPg(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const port = await freePort();
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    `-c listen_addresses=127.0.0.1`,
    `-c fsync=${options.fsync ? 'on' : 'off'}`,
    `-c max_connections=100`,
    `-c shared_buffers=128MB`,
  ].join(' ');
  const start = () =>
    runPg(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-o',
      serverOptions,
      '-l',
      join(dir, 'server.log'),
      '-w',
      'start',
    ]);
  start();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let running = true;
  const external = externalServer(adminUrl);
  return {
    createDatabase: () => external.createDatabase(),
    crash() {
      runPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      running = false;
    },
    restart() {
      start();
      running = true;
    },
    async stop() {
      if (running) runPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
