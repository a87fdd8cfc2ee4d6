/** Answer caching: by TTL within min/max bounds, negative caching, TTLs that count down. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { DnsCache } from '../../src/dataplane/dns/dns-cache.js';
import {
  FakeUpstream,
  a,
  query,
  rcodeName,
  startDns,
  udpExchange,
  type TestDns,
  asDns,
} from './dns-harness.js';

const POLICY = `version: 1
name: dns-cache
mode: restrict
rules:
  - allow: ['**.cache.test']
`;

function response(
  flags: number,
  answers: DecodedPacket['answers'],
  authorities: DecodedPacket['authorities'] = [],
): DecodedPacket {
  return dnsPacket.decode(
    dnsPacket.encode({
      type: 'response',
      id: 1,
      flags,
      questions: [{ type: 'A', name: 'x.test' }],
      answers,
      authorities,
    }),
  );
}

describe('DnsCache (unit, with a clock)', () => {
  it('keeps an answer for its smallest TTL and counts the TTL down', () => {
    let now = 0;
    const cache = new DnsCache({ now: () => now });
    cache.put('k', response(0, [a('x.test', '192.0.2.1', 30), a('x.test', '192.0.2.2', 10)]), 0);
    now = 4_000;
    const hit = cache.get('k')!;
    assert.equal(hit.ttlLeft, 6);
    assert.deepEqual(
      hit.answers.map((r) => ('ttl' in r ? r.ttl : -1)),
      [6, 6],
    );
    now = 10_000;
    assert.equal(cache.get('k'), undefined);
  });

  it('respects minTtl and maxTtl', () => {
    let now = 0;
    const cache = new DnsCache({ now: () => now, minTtl: 5, maxTtl: 60 });
    assert.equal(cache.put('short', response(0, [a('x.test', '192.0.2.1', 1)]), 0), 5);
    assert.equal(cache.put('long', response(0, [a('x.test', '192.0.2.1', 86400)]), 0), 60);
    now = 4_000;
    assert.ok(cache.get('short'));
    now = 61_000;
    assert.equal(cache.get('long'), undefined);
    // TTL 0 stays out of the cache unless a minimum says otherwise.
    assert.equal(new DnsCache().put('zero', response(0, [a('x.test', '192.0.2.1', 0)]), 0), 0);
  });

  it('caches NXDOMAIN for the SOA minimum, or a short default without SOA', () => {
    const cache = new DnsCache({ negativeTtl: 7, maxNegativeTtl: 100 });
    const soa = (minimum: number, ttl = 3600) => [
      {
        type: 'SOA' as const,
        name: 'test',
        ttl,
        data: { mname: 'ns.test', rname: 'a.test', minimum },
      },
    ];
    assert.equal(cache.put('a', response(3, [], soa(42)), 0), 42);
    assert.equal(cache.put('b', response(3, [], soa(42, 20)), 0), 20, 'min(SOA TTL, minimum)');
    assert.equal(cache.put('c', response(3, [], soa(5000)), 0), 100, 'bounded');
    assert.equal(cache.put('d', response(3, []), 0), 7);
    assert.equal(cache.put('nodata', response(0, [], soa(9)), 0), 9);
    assert.equal(cache.get('a')!.rcode, 3);
  });

  it('never caches SERVFAIL, REFUSED or truncated answers, and evicts the least recently used', () => {
    const cache = new DnsCache({ maxEntries: 2 });
    assert.equal(cache.put('s', response(2, []), 0), 0);
    assert.equal(cache.put('r', response(5, []), 0), 0);
    assert.equal(
      cache.put('t', response(dnsPacket.TRUNCATED_RESPONSE, [a('x.test', '192.0.2.1')]), 0),
      0,
    );
    const ok = response(0, [a('x.test', '192.0.2.1')]);
    cache.put('1', ok, 0);
    cache.put('2', ok, 0);
    cache.get('1');
    cache.put('3', ok, 0);
    assert.ok(cache.get('1'));
    assert.equal(cache.get('2'), undefined);
    assert.equal(cache.size, 2);
  });
});

describe('DNS server cache (real sockets)', () => {
  let upstream: FakeUpstream;
  let dns: TestDns;
  // The cache's clock: TTLs run out when a test moves it on, not by sleeping.
  let clock = Date.now();
  const passes = (ms: number) => (clock += ms);
  before(async () => {
    upstream = await new FakeUpstream('127.0.0.56', {
      records: {
        'long.cache.test': [a('long.cache.test', '192.0.2.30', 300)],
        'short.cache.test': [a('short.cache.test', '192.0.2.31', 1)],
      },
      negativeTtl: 1,
    }).start();
    dns = await startDns(POLICY, { upstreams: [upstream.upstream], cache: { now: () => clock } });
  });
  after(async () => {
    await dns.close();
    await upstream.close();
  });
  const asks = (name: string) => upstream.names().filter((n) => n === name).length;

  it("answers the second question from the cache, with a lower TTL and the asker's id", async () => {
    const first = await udpExchange(dns.port, query('long.cache.test', 'A', 1));
    passes(1100);
    const second = await udpExchange(dns.port, query('LONG.cache.test', 'A', 2));
    assert.equal(asks('long.cache.test'), 1);
    assert.equal(second!.id, 2);
    assert.equal(second!.questions?.[0]?.name, 'LONG.cache.test');
    const ttl = (p: DecodedPacket | null) => (p!.answers![0] as { ttl: number }).ttl;
    assert.equal(ttl(first), 300);
    assert.ok(ttl(second) < 300, `ttl ${ttl(second)}`);
    const last = asDns(dns.events.at(-1));
    assert.equal(last.dns.cached, true);
    assert.equal(last.dns.source, 'cache');
  });

  it('asks again once a short TTL has run out', async () => {
    await udpExchange(dns.port, query('short.cache.test'));
    await udpExchange(dns.port, query('short.cache.test'));
    assert.equal(asks('short.cache.test'), 1);
    passes(1100);
    await udpExchange(dns.port, query('short.cache.test'));
    assert.equal(asks('short.cache.test'), 2);
  });

  it('caches NXDOMAIN for the SOA minimum', async () => {
    const r = await udpExchange(dns.port, query('nx.cache.test'));
    assert.equal(rcodeName(r!), 'NXDOMAIN');
    assert.equal(rcodeName((await udpExchange(dns.port, query('nx.cache.test')))!), 'NXDOMAIN');
    assert.equal(asks('nx.cache.test'), 1);
    passes(1100);
    await udpExchange(dns.port, query('nx.cache.test'));
    assert.equal(asks('nx.cache.test'), 2);
  });

  it('keeps separate entries per type', async () => {
    await udpExchange(dns.port, query('long.cache.test', 'AAAA'));
    assert.equal(
      upstream.asked.filter((q) => q.name === 'long.cache.test' && q.type === 'AAAA').length,
      1,
    );
  });
});
