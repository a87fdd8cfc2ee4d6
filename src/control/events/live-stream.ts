/**
 * One live audit stream (GET /api/v1/events/stream): first the stored events after the
 * client's Last-Event-ID (a reconnect catches up, oldest first, at most CATCH_UP_LIMIT), then
 * every newly stored event matching the filter as it is committed, with a heartbeat comment
 * every `heartbeatMs`. A client that stops reading is cut off once BACKLOG_LIMIT events wait
 * for it (an `overflow` event says so), so a slow reader never holds the server's memory.
 */
import type { EventFilter, StoredEvent, Store } from '../store/store.js';
import type { EventHub } from './event-hub.js';
import { matchesFilter } from './filter-match.js';
import { sseComment, sseEvent } from './sse.js';

export const CATCH_UP_LIMIT = 1000;
const BACKLOG_LIMIT = 10_000;

export interface LiveStreamOptions {
  store: Store;
  hub: EventHub;
  filter: EventFilter;
  lastEventId?: string | undefined;
  heartbeatMs?: number;
}

/** Stored events strictly after `lastId` (by time, then id), oldest first. */
async function catchUp(store: Store, filter: EventFilter, lastId: string): Promise<StoredEvent[]> {
  const last = await store.getEvent(lastId);
  if (!last) return [];
  const page = await store.queryEvents({ ...filter, from: last.time, limit: CATCH_UP_LIMIT });
  return page.events
    .filter((e) => e.time > last.time || (e.time === last.time && e.id > last.id))
    .reverse();
}

export function liveStream(options: LiveStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let stop: (() => void) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const close = () => {
    stop?.();
    stop = undefined;
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  return new ReadableStream<Uint8Array>(
    {
      async start(controller) {
        let backlog = 0;
        const send = (text: string) => {
          controller.enqueue(encoder.encode(text));
        };
        // Subscribe before catching up, so nothing committed in between is lost; the catch-up
        // events go first and live ones already sent by it are skipped by id.
        const early: StoredEvent[] = [];
        let live = false;
        const sent = new Set<string>();
        const deliver = (events: readonly StoredEvent[]) => {
          for (const e of events) {
            if (!matchesFilter(e, options.filter) || sent.has(e.id)) continue;
            if (!live) {
              early.push(e);
              continue;
            }
            backlog = -(controller.desiredSize ?? 0);
            if (backlog > BACKLOG_LIMIT) {
              send(
                sseEvent('overflow', null, {
                  message: 'the client read too slowly; reconnect with Last-Event-ID',
                }),
              );
              close();
              controller.close();
              return;
            }
            send(sseEvent('audit', e.id, e));
          }
        };
        stop = options.hub.subscribe(deliver);
        send('retry: 3000\n' + sseComment('egress audit stream'));
        if (options.lastEventId) {
          for (const e of await catchUp(options.store, options.filter, options.lastEventId)) {
            sent.add(e.id);
            send(sseEvent('audit', e.id, e));
          }
        }
        live = true;
        deliver(early.splice(0));
        sent.clear();
        timer = setInterval(() => {
          try {
            send(sseComment('keep-alive'));
          } catch {
            close();
          }
        }, options.heartbeatMs ?? 15_000);
        timer.unref?.();
      },
      cancel() {
        close();
      },
    },
    { highWaterMark: 1 },
  );
}
