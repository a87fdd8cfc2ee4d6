/**
 * The store backends a parametrised suite runs against: SQLite always (a file in a temp
 * directory), PostgreSQL when a server is available (test/helpers/postgres.ts), each test on
 * a fresh, empty database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type StoreLocation } from '../../src/control/store/open.js';
import type { Store, StoreBackend } from '../../src/control/store/store.js';
import { startPostgres, withoutPostgres, type PostgresServer } from './postgres.js';

export interface StoreHarness {
  readonly backend: StoreBackend;
  /** Where a fresh, empty database is (not opened yet). */
  freshLocation(): Promise<StoreLocation>;
  /** Opens a store on a fresh database; `teardown` closes it. */
  fresh(): Promise<Store>;
  /** Opens another store on the same location (another replica, a restart). */
  reopen(location: StoreLocation): Promise<Store>;
  /** The throw-away PostgreSQL server, when this harness runs one. */
  readonly postgres: PostgresServer | null;
  teardown(): Promise<void>;
}

export interface BackendCase {
  name: StoreBackend;
  /** false, or why the backend's tests are skipped. */
  skip: string | false;
  create(): Promise<StoreHarness>;
}

function harness(
  backend: StoreBackend,
  freshLocation: () => Promise<StoreLocation>,
  postgres: PostgresServer | null,
  cleanup: () => Promise<void>,
): StoreHarness {
  const open: Store[] = [];
  const reopen = async (location: StoreLocation) => {
    const store = await openStore(location);
    open.push(store);
    return store;
  };
  return {
    backend,
    freshLocation,
    fresh: async () => reopen(await freshLocation()),
    reopen,
    postgres,
    async teardown() {
      for (const store of open.splice(0)) await store.close().catch(() => {});
      await cleanup();
    },
  };
}

export const BACKENDS: BackendCase[] = [
  {
    name: 'sqlite',
    skip: false,
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'egress-store-'));
      let n = 0;
      return harness(
        'sqlite',
        async () => ({ kind: 'sqlite', path: join(dir, `store-${n++}.db`) }),
        null,
        async () => rmSync(dir, { recursive: true, force: true }),
      );
    },
  },
  {
    name: 'postgres',
    skip: withoutPostgres(),
    async create() {
      const server = await startPostgres();
      return harness(
        'postgres',
        async () => ({ kind: 'postgres', url: await server.createDatabase() }),
        server,
        () => server.stop(),
      );
    },
  },
];
