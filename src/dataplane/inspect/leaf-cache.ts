/**
 * Leaf certificates made on demand, one per host name, kept as ready TLS contexts in a bounded
 * LRU. Concurrent first requests for one name share a single issuance; a leaf is renewed once
 * less than a quarter of its validity remains, so a cached leaf never expires in use.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { LEAF_VALIDITY_MS, type CertificateAuthority } from './certificate-authority.js';

export const DEFAULT_LEAF_CACHE_SIZE = 1000;

interface Entry {
  context: Promise<SecureContext>;
  renewAt: number;
}

export class LeafCache {
  private readonly entries = new Map<string, Entry>();
  /** Issuance timings (ms), newest last, for logs and benchmarks. */
  readonly timings: number[] = [];

  constructor(
    private readonly authority: CertificateAuthority,
    private readonly capacity = DEFAULT_LEAF_CACHE_SIZE,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The TLS context presenting a leaf for `name` (a normalised host name or IP literal). */
  get(name: string, now = Date.now()): Promise<SecureContext> {
    const hit = this.entries.get(name);
    if (hit && hit.renewAt > now) {
      // Map order is insertion order: re-inserting marks the entry most recently used.
      this.entries.delete(name);
      this.entries.set(name, hit);
      return hit.context;
    }
    const context = this.issue(name, now);
    this.entries.delete(name);
    const entry = { context, renewAt: now + (LEAF_VALIDITY_MS * 3) / 4 };
    this.entries.set(name, entry);
    context.catch(() => {
      if (this.entries.get(name) === entry) this.entries.delete(name);
    });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return context;
  }

  private async issue(name: string, now: number): Promise<SecureContext> {
    const started = performance.now();
    const leaf = await this.authority.issue(name, now);
    const context = createSecureContext({ cert: leaf.certPem, key: leaf.keyPem });
    this.timings.push(performance.now() - started);
    if (this.timings.length > 100) this.timings.shift();
    return context;
  }
}
