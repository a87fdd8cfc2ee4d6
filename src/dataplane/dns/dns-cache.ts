/**
 * The answer cache of the DNS forwarder: upstream answers kept for their TTL, bounded by
 * `minTtl`/`maxTtl`, with negative caching (NXDOMAIN, and NOERROR without data) for the SOA
 * minimum of the authority section (RFC 2308: min(SOA TTL, SOA minimum)) or a short default.
 * Served answers carry the TTL that is left. SERVFAIL, REFUSED and truncated answers are never
 * cached. Bounded in entries; the least recently used entry goes first.
 */
import type { Answer, DecodedPacket } from 'dns-packet';
import { RCODE } from './dns-message.js';

export interface DnsCacheOptions {
  /** Seconds; shorter TTLs are raised to this (0 keeps TTL-0 answers out of the cache). */
  minTtl?: number;
  /** Seconds; longer TTLs are cut to this. */
  maxTtl?: number;
  /** Seconds to keep a negative answer that carries no SOA. */
  negativeTtl?: number;
  /** Seconds; longest negative caching even when the SOA asks for more. */
  maxNegativeTtl?: number;
  maxEntries?: number;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

export interface CachedAnswer {
  rcode: number;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** AA/AD bits of the upstream answer. */
  flags: number;
  /** Seconds left. */
  ttlLeft: number;
}

interface Entry {
  rcode: number;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  flags: number;
  storedAt: number;
  expiresAt: number;
}

const DEFAULTS = { minTtl: 0, maxTtl: 86_400, negativeTtl: 30, maxNegativeTtl: 3600 };

export class DnsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly minTtl: number;
  private readonly maxTtl: number;
  private readonly negativeTtl: number;
  private readonly maxNegativeTtl: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: DnsCacheOptions = {}) {
    this.minTtl = options.minTtl ?? DEFAULTS.minTtl;
    this.maxTtl = Math.max(this.minTtl, options.maxTtl ?? DEFAULTS.maxTtl);
    this.negativeTtl = options.negativeTtl ?? DEFAULTS.negativeTtl;
    this.maxNegativeTtl = options.maxNegativeTtl ?? DEFAULTS.maxNegativeTtl;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A fresh answer for `key`, TTLs lowered by the time it spent in the cache. */
  get(key: string): CachedAnswer | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.now();
    if (now >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used goes to the back of the Map (eviction takes from the front).
    this.entries.delete(key);
    this.entries.set(key, entry);
    const ttlLeft = Math.max(0, Math.ceil((entry.expiresAt - now) / 1000));
    const age = Math.floor((now - entry.storedAt) / 1000);
    const aged = (records: Answer[]) => records.map((r) => agedRecord(r, age, ttlLeft));
    return {
      rcode: entry.rcode,
      answers: aged(entry.answers),
      authorities: aged(entry.authorities),
      additionals: aged(entry.additionals),
      flags: entry.flags,
      ttlLeft,
    };
  }

  /** Stores an upstream answer if it may be cached; returns the TTL used (0 = not stored). */
  put(key: string, response: DecodedPacket, flags: number): number {
    if (response.flag_tc) return 0;
    const rcode = (response.flags ?? 0) & 0xf;
    const answers = (response.answers ?? []).filter((a) => a.type !== 'OPT');
    const authorities = response.authorities ?? [];
    const additionals = (response.additionals ?? []).filter((a) => a.type !== 'OPT');
    let ttl: number;
    if (rcode === RCODE.NOERROR && answers.length > 0) {
      ttl = clamp(Math.min(...answers.map((a) => ttlOf(a))), this.minTtl, this.maxTtl);
    } else if (rcode === RCODE.NXDOMAIN || rcode === RCODE.NOERROR) {
      ttl = Math.min(this.negativeTtlFor(authorities), this.maxNegativeTtl);
    } else {
      return 0;
    }
    if (ttl <= 0) return 0;
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, {
      rcode,
      answers,
      authorities,
      additionals,
      flags,
      storedAt: now,
      expiresAt: now + ttl * 1000,
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return ttl;
  }

  clear(): void {
    this.entries.clear();
  }

  private negativeTtlFor(authorities: readonly Answer[]): number {
    const soa = authorities.find((a) => a.type === 'SOA');
    if (!soa || soa.type !== 'SOA') return this.negativeTtl;
    return Math.min(ttlOf(soa), soa.data.minimum ?? this.negativeTtl);
  }
}

function ttlOf(record: Answer): number {
  return 'ttl' in record && typeof record.ttl === 'number' ? record.ttl : 0;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function agedRecord(record: Answer, age: number, ttlLeft: number): Answer {
  if (record.type === 'OPT') return record;
  return { ...record, ttl: Math.min(ttlLeft, Math.max(0, ttlOf(record) - age)) } as Answer;
}
