/** Audit events as CSV or NDJSON downloads, streamed page by page from the store. */
import type { StoredEvent } from '../store/store.js';
import { csvLine } from '../reports/csv.js';

export const EVENT_CSV_HEADER = [
  'id',
  'time',
  'type',
  'severity',
  'scope',
  'workspace',
  'user',
  'policy',
  'policy_id',
  'policy_version',
  'verdict',
  'reason',
  'destination_host',
  'destination_port',
  'description',
] as const;

function csvRow(e: StoredEvent): string {
  const policy = (e.policy ?? null) as {
    id?: string | null;
    name?: string;
    version?: string | number;
  } | null;
  const dest = (e.destination ?? null) as { host?: string; port?: number } | null;
  return csvLine([
    e.id,
    e.time,
    e.type,
    e.severity,
    e.scope ?? '',
    e.workspace ?? '',
    e.user ?? '',
    policy?.name ?? '',
    policy?.id ?? '',
    policy?.version ?? '',
    e.verdict ?? '',
    e.reason ?? '',
    dest?.host ?? '',
    dest?.port ?? '',
    e.description,
  ]);
}

export function exportStream(
  events: AsyncIterable<StoredEvent>,
  format: 'csv' | 'ndjson',
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = events[Symbol.asyncIterator]();
  let headerSent = format !== 'csv';
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(csvLine(EVENT_CSV_HEADER)));
        return;
      }
      // A few hundred rows per chunk keeps the stream efficient without buffering it all.
      let chunk = '';
      for (let i = 0; i < 500; i++) {
        const next = await iterator.next();
        if (next.done) {
          if (chunk) controller.enqueue(encoder.encode(chunk));
          controller.close();
          return;
        }
        chunk += format === 'csv' ? csvRow(next.value) : JSON.stringify(next.value) + '\n';
      }
      controller.enqueue(encoder.encode(chunk));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
