/**
 * A Store whose appended events reach an EventHub once they are committed: directly for
 * appendEvents outside a transaction, after the commit for those appended inside one (a
 * rolled-back change publishes nothing). Everything else passes through unchanged.
 */
import type { IngestResult, StorableEvent, Store } from '../store/store.js';
import type { EventHub } from './event-hub.js';

type Pending = Array<{ events: readonly StorableEvent[]; inserted: number }>;

function wrap(store: Store, hub: EventHub, pending: Pending | null): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'appendEvents') {
        return async (
          events: readonly StorableEvent[],
          options?: { node?: string },
        ): Promise<IngestResult> => {
          const result = await target.appendEvents(events, options);
          const stamped = options?.node
            ? events.map((e) => (e.node ? e : { ...e, node: options.node }))
            : events;
          if (pending) pending.push({ events: stamped, inserted: result.inserted });
          else hub.publish(stamped, result.inserted);
          return result;
        };
      }
      if (key === 'transaction') {
        return async <T>(fn: (tx: Store) => Promise<T>): Promise<T> => {
          if (pending) return target.transaction((tx) => fn(wrap(tx, hub, pending)));
          const mine: Pending = [];
          const value = await target.transaction((tx) => fn(wrap(tx, hub, mine)));
          for (const p of mine) hub.publish(p.events, p.inserted);
          return value;
        };
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

export function withEventPublishing(store: Store, hub: EventHub): Store {
  return wrap(store, hub, null);
}
