/** UUIDv7 (RFC 9562): time-ordered ids, so audit events sort by id as they sort by time. */

/**
 * The random bits come from crypto.randomUUID() (Web Crypto, so this file runs in browsers too;
 * in Node it draws from a batched entropy cache: one randomBytes(16) per event was a CSPRNG call
 * and a getpid system call on every request).
 */
export function uuidv7(ms: number = Date.now()): string {
  return uuidv7Prefix(ms) + uuidv7Rest();
}

/** The first 15 characters: the 48-bit millisecond time and the version digit. */
function uuidv7Prefix(ms: number): string {
  const time = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
}

/** The random rest, from a v4 layout xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx (V carries the variant). */
function uuidv7Rest(): string {
  const random = globalThis.crypto.randomUUID();
  return `${random.slice(15, 18)}-${random.slice(19)}`;
}

/** When an event happened: its id and its ISO 8601 time. */
export interface EventStamp {
  id: string;
  time: string;
}

export function stampAt(ms: number): EventStamp {
  return { id: uuidv7(ms), time: new Date(ms).toISOString() };
}

/**
 * Stamps for a stream of events. A busy proxy stamps several events in the same millisecond,
 * so the parts that depend only on the millisecond (the id's time digits, the ISO string) are
 * computed once per millisecond.
 */
export class EventClock {
  private ms = -1;
  private prefix = '';
  private iso = '';

  stamp(ms: number = Date.now()): EventStamp {
    if (ms !== this.ms) this.advance(ms);
    return { id: this.prefix + uuidv7Rest(), time: this.iso };
  }

  /** An id alone (a request's correlation id), time-ordered like the events' ids. */
  id(ms: number = Date.now()): string {
    if (ms !== this.ms) this.advance(ms);
    return this.prefix + uuidv7Rest();
  }

  private advance(ms: number): void {
    this.ms = ms;
    this.prefix = uuidv7Prefix(ms);
    this.iso = new Date(ms).toISOString();
  }
}
