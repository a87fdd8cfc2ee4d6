import type { OpenOptions } from '../open.js';
import type { Store } from '../store.js';

export async function openPostgresStore(url: string, options: OpenOptions = {}): Promise<Store> {
  void url;
  void options;
  throw new Error('the PostgreSQL store is not written yet');
}
