/**
 * Bearer tokens: random, shown once, stored only as their SHA-256 digest. A token is looked up
 * by its digest, and the digest found is compared with the presented one in constant time, so
 * neither the lookup nor the comparison tells an attacker how much of a guess was right.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export { hashToken } from '../store/token-hash.js';

/** A recognisable prefix lets secret scanners find leaked tokens. */
export const TOKEN_PREFIX = 'egress_';

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Constant-time comparison of two hex digests (different lengths never match). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    // Compare anyway, so a length mismatch costs the same time as a content mismatch.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(header);
  return m?.[1];
}
