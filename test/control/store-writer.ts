/**
 * A child process for the kill -9 test (store-crash.test.ts): opens the store at the location
 * given as JSON in argv[2] and writes in a loop, printing `ack N` only after transaction N
 * committed. Transaction N creates user `writer-N` and events `kill-N-0` … `kill-N-{B-1}`.
 */
import { openStore, type StoreLocation } from '../../src/control/store/open.js';
import type { StorableEvent } from '../../src/control/store/store.js';

const location = JSON.parse(process.argv[2]!) as StoreLocation;
const batch = Number(process.argv[3] ?? 100);
const store = await openStore(location);
process.stdout.write('ready\n');
const start = Date.parse('2026-12-04T00:00:00.000Z');
for (let n = 0; ; n++) {
  const events: StorableEvent[] = [];
  for (let j = 0; j < batch; j++) {
    events.push({
      id: `kill-${n}-${j}`,
      time: new Date(start + n * 1000 + j).toISOString(),
      type: 'request.denied',
      severity: 'warning',
      workspace: 'ws1',
      destination: { host: `host${j}.example.com`, port: 443 },
      description: `Denied host${j}.example.com:443 (transaction ${n})`,
    });
  }
  await store.transaction(async (tx) => {
    await tx.createUser({ name: `writer-${n}`, kind: 'service' });
    await tx.appendEvents(events);
  });
  // Synchronous on a pipe: once the parent can read it, the commit above has returned.
  process.stdout.write(`ack ${n}\n`);
}
