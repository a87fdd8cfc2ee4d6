/**
 * `egress serve` at run time: opens the store (SQLite in the data directory, or PostgreSQL),
 * makes the platform and the admin user on first start, serves the API until SIGTERM/SIGINT,
 * then drains requests in flight and closes the store. The CLI (src/cli/commands/serve-run.ts)
 * parses the flags and turns a ServeFailure into exit 1.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EcosystemExtras } from '../policy/ecosystems/index.js';
import { buildApp } from './app.js';
import { bootstrap } from './bootstrap.js';
import { ControlServer } from './server.js';
import { openStore, storeLocation } from './store/open.js';
import type { Store } from './store/store.js';

/** The control plane could not start or go on (data directory, store, port): exit 1. */
export class ServeFailure extends Error {
  override name = 'ServeFailure';
}

export interface ControlServeOptions {
  listen: { host: string; port: number };
  /** The --listen text, for messages. */
  listenText: string;
  dataDir: string;
  db?: string;
  /** The first admin's token (EGRESS_ADMIN_TOKEN), instead of a generated one. */
  adminToken?: string;
  hostRegistries: readonly string[];
  ecosystemExtras: EcosystemExtras;
}

/** Where the control plane writes its human-readable lines. */
export interface ServeOutput {
  out(text: string): void;
  err(text: string): void;
}

function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ServeFailure(`cannot create the data directory ${dir}: ${(err as Error).message}`);
  }
}

function writeAdminToken(dir: string, token: string): string {
  const path = join(dir, 'admin-token');
  writeFileSync(path, token + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** Serves until SIGTERM/SIGINT, then drains and closes the store. */
export async function serveControlPlane(
  options: ControlServeOptions,
  io: ServeOutput,
): Promise<void> {
  const dataDir = resolve(options.dataDir);
  prepareDataDir(dataDir);
  let store: Store;
  try {
    store = await openStore(storeLocation(options.db, dataDir));
  } catch (err) {
    throw new ServeFailure(`cannot open the store: ${(err as Error).message}`);
  }
  let server: ControlServer | undefined;
  try {
    const first = await bootstrap(store, {
      ...(options.adminToken ? { adminToken: options.adminToken } : {}),
      now: Date.now,
    });
    if (first.adminToken) {
      const path = writeAdminToken(dataDir, first.adminToken);
      io.err(`admin token: ${first.adminToken}\n`);
      io.err(`egress: the admin token is shown once; it is also in ${path} (mode 0600)\n`);
    }
    const app = buildApp({
      store,
      hostRegistries: options.hostRegistries,
      ecosystemExtras: options.ecosystemExtras,
    });
    server = new ControlServer({
      fetch: app.fetch,
      host: options.listen.host,
      port: options.listen.port,
    });
    try {
      await server.start();
    } catch (err) {
      throw new ServeFailure(`cannot listen on ${options.listenText}: ${(err as Error).message}`);
    }
    io.out(`egress: control plane (${store.backend}) listening on ${server.url()}\n`);
    const signal = await new Promise<string>((done) => {
      process.once('SIGTERM', () => done('SIGTERM'));
      process.once('SIGINT', () => done('SIGINT'));
    });
    io.err(`egress: ${signal}: draining\n`);
  } finally {
    await server?.close();
    await store.close();
  }
}
