/** Token secrets are stored only as their sha-256: this is the one place that hashes them. */
import { createHash } from 'node:crypto';

/** Lower-case hex sha-256 of a bearer/node/workspace token secret. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
