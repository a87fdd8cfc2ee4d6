/** UUIDv7 (RFC 9562): time-ordered ids, so audit events sort by id as they sort by time. */
import { randomUUID } from 'node:crypto';

/**
 * The random bits come from randomUUID(), which draws from a batched entropy cache: one
 * randomBytes(16) per event was a CSPRNG call (and a getpid system call) on every request.
 */
export function uuidv7(ms: number = Date.now()): string {
  // v4 layout: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx (V already carries the RFC 9562 variant).
  const random = randomUUID();
  const time = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}
