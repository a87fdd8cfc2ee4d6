/**
 * `egress serve` at run time: opens the store (SQLite in the data directory, or PostgreSQL),
 * makes the platform and the admin user on first start, serves the API until SIGTERM/SIGINT,
 * then drains requests in flight and closes the store.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildApp } from '../../control/app.js';
import { bootstrap } from '../../control/bootstrap.js';
import { ControlServer } from '../../control/server.js';
import { openStore, storeLocation } from '../../control/store/open.js';
import type { Store } from '../../control/store/store.js';
import { findHostRegistries } from '../../dataplane/host-registries.js';
import { EXIT_OK, RuntimeFailure } from '../errors.js';
import type { Io } from '../io.js';
import { parseListen } from './proxy-options.js';
import type { ServeOptions } from './serve.js';

function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new RuntimeFailure(`cannot create the data directory ${dir}: ${(err as Error).message}`);
  }
}

function writeAdminToken(dir: string, token: string): string {
  const path = join(dir, 'admin-token');
  writeFileSync(path, token + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export async function runServe(options: ServeOptions, io: Io): Promise<number> {
  const listen = parseListen(options.listen);
  const dataDir = resolve(options.dataDir);
  prepareDataDir(dataDir);
  let store: Store;
  try {
    store = await openStore(storeLocation(options.db, dataDir));
  } catch (err) {
    throw new RuntimeFailure(`cannot open the store: ${(err as Error).message}`);
  }
  let server: ControlServer | undefined;
  try {
    const first = await bootstrap(store, {
      ...(process.env.EGRESS_ADMIN_TOKEN ? { adminToken: process.env.EGRESS_ADMIN_TOKEN } : {}),
      now: Date.now,
    });
    if (first.adminToken) {
      const path = writeAdminToken(dataDir, first.adminToken);
      io.err(`admin token: ${first.adminToken}\n`);
      io.err(`egress: the admin token is shown once; it is also in ${path} (mode 0600)\n`);
    }
    const registries = findHostRegistries();
    const app = buildApp({
      store,
      hostRegistries: registries.all,
      ecosystemExtras: registries.byEcosystem,
    });
    server = new ControlServer({ fetch: app.fetch, host: listen.host, port: listen.port });
    try {
      await server.start();
    } catch (err) {
      throw new RuntimeFailure(`cannot listen on ${options.listen}: ${(err as Error).message}`);
    }
    io.out(`egress: control plane (${store.backend}) listening on ${server.url()}\n`);
    const signal = await new Promise<string>((done) => {
      process.once('SIGTERM', () => done('SIGTERM'));
      process.once('SIGINT', () => done('SIGINT'));
    });
    io.err(`egress: ${signal}: draining\n`);
    return EXIT_OK;
  } finally {
    await server?.close();
    await store.close();
  }
}
