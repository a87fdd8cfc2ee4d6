/**
 * Opening a store: `openStore(location)` picks the backend, runs the migrations and returns
 * the ready store. `storeLocation` turns `egress serve`'s flags into a location.
 */
import { join } from 'node:path';
import type { Store } from './store.js';

export type StoreLocation =
  | { kind: 'sqlite'; /** A file path, or `:memory:` (tests). */ path: string }
  | { kind: 'postgres'; /** `postgres://user:pass@host:port/db` */ url: string };

export interface OpenOptions {
  /** The time the store stamps records with (tests inject one). Defaults to the wall clock. */
  now?: () => Date;
}

/** `--db postgres://…` wins; otherwise SQLite at `DATA_DIR/egress.db`. */
export function storeLocation(db: string | undefined, dataDir: string): StoreLocation {
  if (db && /^postgres(ql)?:\/\//.test(db)) return { kind: 'postgres', url: db };
  if (db) return { kind: 'sqlite', path: db.replace(/^sqlite:/, '') };
  return { kind: 'sqlite', path: join(dataDir, 'egress.db') };
}

export async function openStore(
  location: StoreLocation,
  options: OpenOptions = {},
): Promise<Store> {
  if (location.kind === 'postgres') {
    const { openPostgresStore } = await import('./postgres/open.js');
    return openPostgresStore(location.url, options);
  }
  const { openSqliteStore } = await import('./sqlite/open.js');
  return openSqliteStore(location.path, options);
}
