/**
 * One store suite, every backend: the cases of store.case.ts and events.case.ts run on SQLite
 * and on PostgreSQL (skipped, saying what to install, when no PostgreSQL is available).
 */
import { after, before, describe } from 'node:test';
import { BACKENDS, type StoreHarness } from '../helpers/stores.js';
import { eventCases } from './events.case.js';
import { storeCases } from './store.case.js';

for (const backend of BACKENDS) {
  describe(`store on ${backend.name}`, { skip: backend.skip }, () => {
    let harness: StoreHarness;
    before(async () => {
      harness = await backend.create();
    });
    after(async () => {
      await harness?.teardown();
    });
    storeCases(() => harness);
    eventCases(() => harness);
  });
}
