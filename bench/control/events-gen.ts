/**
 * Realistic audit events for the store benchmark: canonical events (every field of
 * src/protocol/audit-event.ts) over 500 workspaces and 2,000 destination hosts drawn with a
 * skew (a few popular hosts, a long tail), 90% allowed, descriptions as the proxy writes them.
 * Deterministic from the seed, so both backends get the same data.
 */
import type { StorableEvent } from '../../src/control/store/store.js';

export const WORKSPACES = 500;
const HOSTS = 2000;
const POPULAR = [
  'api.github.com',
  'registry.npmjs.org',
  'pypi.org',
  'files.pythonhosted.org',
  'objects.githubusercontent.com',
  'proxy.golang.org',
  'index.docker.io',
  'api.openai.com',
];
const WORDS = [
  'api',
  'cdn',
  'static',
  'auth',
  'login',
  'data',
  'metrics',
  'telemetry',
  'update',
  'files',
];
const TLDS = ['com', 'net', 'io', 'org', 'dev'];

/** A small fast PRNG (mulberry32): the benchmark must not measure Math.random's state. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hostName(i: number): string {
  if (i < POPULAR.length) return POPULAR[i]!;
  return `${WORDS[i % WORDS.length]}${i}.vendor${Math.floor(i / 7)}.${TLDS[i % TLDS.length]}`;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

export class EventGenerator {
  private readonly random: () => number;
  private sequence = 0;

  constructor(
    seed: number,
    /** The first event's time; events are 1 ms apart on average (out of order by a little). */
    private readonly startMs: number,
  ) {
    this.random = prng(seed);
  }

  /** Time-sortable, unique ids shaped like UUIDv7 (random bits from the seeded PRNG). */
  private id(ms: number): string {
    const r = this.random;
    const time = hex(ms, 12);
    const rand = hex(Math.floor(r() * 0x1000), 3);
    const tail = hex(this.sequence, 12);
    const variant = hex(0x8000 | Math.floor(r() * 0x3fff), 4);
    return `${time.slice(0, 8)}-${time.slice(8)}-7${rand}-${variant}-${tail}`;
  }

  next(): StorableEvent {
    const r = this.random;
    const n = this.sequence++;
    const ms = this.startMs + n + Math.floor(r() * 50);
    const u = r();
    // Skewed: a third of the traffic to the popular hosts, the rest over the long tail.
    const hostIndex = u < 0.33 ? Math.floor(r() * POPULAR.length) : Math.floor(r() ** 2 * HOSTS);
    const host = hostName(hostIndex);
    const ws = `ws-${Math.floor(r() ** 1.5 * WORKSPACES)}`;
    const denied = r() < 0.1;
    const type = denied
      ? 'request.denied'
      : r() < 0.5
        ? 'request.allowed'
        : r() < 0.8
          ? 'request.closed'
          : 'dns.query';
    const port = r() < 0.9 ? 443 : 80;
    const verdict = type === 'request.closed' ? null : denied ? 'deny' : 'allow';
    return {
      id: this.id(ms),
      time: new Date(ms).toISOString(),
      type,
      severity: denied ? 'warning' : r() < 0.001 ? 'critical' : 'info',
      workspace: ws,
      session: `s-${Math.floor(r() * 1e6)}`,
      user: r() < 0.3 ? `user${Math.floor(r() * 200)}` : null,
      node: `node-${n % 4}`,
      scope: `orgs/org${Math.floor(Number(ws.slice(3)) / 100)}/projects/p${Number(ws.slice(3)) % 10}/workspaces/${ws}`,
      policy: { id: '01a2400000007000800000000000aaaa', name: 'default', version: '12' },
      mode: 'restrict',
      verdict,
      enforced: true,
      wouldDeny: denied,
      reason: denied ? 'no_rule_matched' : 'rule_allowed',
      rule: denied
        ? null
        : {
            index: Math.floor(r() * 20),
            kind: 'allow',
            source: `policy.yaml:${10 + Math.floor(r() * 20)}:5`,
          },
      client: { address: `10.0.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}` },
      destination: {
        host,
        ip: `203.0.113.${Math.floor(r() * 255)}`,
        port,
        transport: 'tcp',
        scheme: port === 443 ? 'https' : 'http',
      },
      http: null,
      bytesIn: type === 'request.closed' ? Math.floor(r() * 100_000) : null,
      bytesOut: type === 'request.closed' ? Math.floor(r() * 10_000) : null,
      durationMs: type === 'request.closed' ? Math.floor(r() * 2000) : null,
      description: denied
        ? `CONNECT ${host}:${port} denied: no rule allows it (restrict mode)`
        : type === 'request.closed'
          ? `Connection to ${host}:${port} closed after ${Math.floor(r() * 2000)} ms`
          : `CONNECT ${host}:${port} allowed by rule ${Math.floor(r() * 20)}`,
    } as StorableEvent;
  }

  batch(size: number): StorableEvent[] {
    const out: StorableEvent[] = new Array<StorableEvent>(size);
    for (let i = 0; i < size; i++) out[i] = this.next();
    return out;
  }
}
