/**
 * What must not break the DNS server: malformed packets (dropped, counted, no answer), TCP
 * framing (several questions, byte-by-byte writes, idle timeout), dead upstreams (next one, then
 * SERVFAIL), truncated upstream answers (TCP fallback) and answers too big for UDP (TC).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { frame } from '../../src/dataplane/dns/tcp-framing.js';
import {
  FakeUpstream,
  a,
  datas,
  dig,
  query,
  rcodeName,
  sleep,
  startDns,
  tcpExchange,
  udpExchange,
  type TestDns,
  type DnsEvent,
} from './dns-harness.js';
import { eventually } from '../helpers/proxy-harness.js';
import { WITHOUT_DIG } from '../helpers/tools.js';

const POLICY = `version: 1
name: dns-robust
mode: restrict
rules:
  - allow: ['**.ok.test']
`;

const many = Array.from({ length: 40 }, (_, i) => a('big.ok.test', `192.0.2.${i + 1}`));

describe('DNS robustness', () => {
  let upstream: FakeUpstream;
  let dns: TestDns;
  before(async () => {
    upstream = await new FakeUpstream('127.0.0.57', {
      records: {
        'www.ok.test': [a('www.ok.test', '192.0.2.40')],
        'big.ok.test': many,
        'tc.ok.test': [a('tc.ok.test', '192.0.2.41')],
      },
      truncateOverUdp: new Set(['tc.ok.test']),
    }).start();
    dns = await startDns(POLICY, {
      upstreams: [upstream.upstream],
      tcpIdleTimeoutMs: 300,
      cache: null,
    });
  });
  after(async () => {
    await dns.close();
    await upstream.close();
  });

  it(
    'drops malformed datagrams without answering, counts them, and keeps serving',
    { skip: WITHOUT_DIG },
    async () => {
      const before = dns.server.stats.malformed;
      const header = Buffer.from(query('www.ok.test'));
      const junk = [
        Buffer.alloc(0),
        Buffer.from([1, 2, 3, 4, 5]),
        header.subarray(0, 11),
        header.subarray(0, header.length - 3), // question cut short
        Buffer.concat([header.subarray(0, 4), Buffer.from([0xff, 0xff]), header.subarray(6)]), // 65535 questions claimed
        dnsPacket.encode({
          type: 'response',
          id: 1,
          questions: [{ type: 'A', name: 'www.ok.test' }],
        }),
        ...Array.from({ length: 200 }, (_, i) => randomBytes(1 + (i % 97))),
      ];
      // In batches: a burst of hundreds of datagrams can overflow the socket buffer, and the
      // kernel would drop some before the server ever saw them.
      const answers: unknown[] = [];
      for (let i = 0; i < junk.length; i += 25)
        answers.push(
          ...(await Promise.all(junk.slice(i, i + 25).map((j) => udpExchange(dns.port, j, 200)))),
        );
      // Random bytes occasionally form a valid query; every packet that is not one goes unanswered.
      const answered = answers.filter((x) => x !== null).length;
      assert.ok(answered <= 10, `${answered} answers to junk`);
      assert.equal(answers.slice(0, 6).filter((x) => x !== null).length, 0);
      assert.ok(dns.server.stats.malformed - before >= junk.length - answered);
      const r = await udpExchange(dns.port, query('www.ok.test'));
      assert.deepEqual(datas(r), ['192.0.2.40']);
      assert.match(await dig(dns.port, ['www.ok.test']), /192\.0\.2\.40/);
    },
  );

  it('TCP: several questions on one connection, written byte by byte, answered by id', async () => {
    const answers = await new Promise<dnsPacket.DecodedPacket[]>((resolve, reject) => {
      const socket = new Socket();
      const out: dnsPacket.DecodedPacket[] = [];
      let buffered = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          out.push(dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))));
          buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
        }
        if (out.length === 3) {
          socket.destroy();
          resolve(out);
        }
      });
      socket.connect(dns.port, '127.0.0.1', async () => {
        const bytes = Buffer.concat([
          frame(query('www.ok.test', 'A', 11)),
          frame(query('denied.test', 'A', 12)),
          frame(query('big.ok.test', 'A', 13)),
        ]);
        for (const byte of bytes) {
          socket.write(Buffer.from([byte]));
          await sleep(0);
        }
      });
    });
    const byId = new Map(answers.map((x) => [x.id, x]));
    assert.deepEqual(datas(byId.get(11)), ['192.0.2.40']);
    assert.equal(rcodeName(byId.get(12)!), 'REFUSED');
    assert.equal(byId.get(13)!.answers?.length, 40, 'TCP answers are never truncated');
  });

  it('TCP: a malformed frame is skipped and the connection keeps working', async () => {
    const answers = await tcpExchange(dns.port, [randomBytes(7), query('www.ok.test', 'A', 21)], 1);
    assert.equal(answers.length, 1);
    assert.equal(answers[0]!.id, 21);
  });

  it('TCP: idle connections are closed', async () => {
    const socket = new Socket();
    const closed = new Promise<number>((resolve) => {
      const start = Date.now();
      socket.on('close', () => resolve(Date.now() - start));
    });
    socket.connect(dns.port, '127.0.0.1');
    const ms = await closed;
    assert.ok(ms >= 250 && ms < 2000, `closed after ${ms} ms`);
  });

  it(
    'UDP answers too big for the client come back truncated; dig then retries over TCP',
    { skip: WITHOUT_DIG },
    async () => {
      const r = await udpExchange(dns.port, query('big.ok.test'));
      assert.equal(r!.flag_tc, true);
      assert.equal(r!.answers?.length, 0);
      const edns = dnsPacket.encode({
        type: 'query',
        id: 5,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type: 'A', name: 'big.ok.test' }],
        additionals: [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: 4096,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ],
      });
      const big = await udpExchange(dns.port, edns);
      assert.equal(big!.flag_tc, false);
      assert.equal(big!.answers?.length, 40);
      const out = await dig(dns.port, ['+noedns', 'big.ok.test']);
      assert.match(out, /Truncated, retrying in TCP mode|ANSWER: 40/);
      assert.match(out, /ANSWER: 40/);
    },
  );

  it('falls back to TCP when the upstream answer is truncated', async () => {
    const r = await udpExchange(dns.port, query('tc.ok.test'));
    assert.deepEqual(datas(r), ['192.0.2.41']);
    const asked = upstream.asked.filter((q) => q.name === 'tc.ok.test').map((q) => q.transport);
    assert.deepEqual(asked, ['udp', 'tcp']);
    await eventually(() =>
      dns.events.some((e) => (e as DnsEvent).dns?.upstreamTransport === 'tcp'),
    );
  });
});

describe('DNS upstream failover', () => {
  it('moves to the next upstream when one does not answer, and SERVFAILs when none does', async () => {
    const dead = await new FakeUpstream('127.0.0.58', { records: {}, silent: true }).start();
    const live = await new FakeUpstream('127.0.0.59', {
      records: { 'www.ok.test': [a('www.ok.test', '192.0.2.50')] },
    }).start();
    const dns = await startDns(POLICY, {
      upstreams: [dead.upstream, live.upstream],
      timeoutMs: 200,
    });
    const allDead = await startDns(POLICY, { upstreams: [dead.upstream], timeoutMs: 100 });
    try {
      const started = Date.now();
      const r = await udpExchange(dns.port, query('www.ok.test'), 2000);
      assert.deepEqual(datas(r), ['192.0.2.50']);
      assert.ok(Date.now() - started >= 180);
      assert.deepEqual(dead.names(), ['www.ok.test']);

      const failed = await udpExchange(allDead.port, query('x.ok.test'), 2000);
      assert.equal(rcodeName(failed!), 'SERVFAIL');
      assert.equal(dead.names().filter((n) => n === 'x.ok.test').length, 2, 'two rounds');
      await eventually(() => allDead.events.length === 1);
      assert.equal(allDead.events[0]!.reason, 'dns_timeout');
      assert.equal(allDead.server.stats.upstreamFailures, 1);
    } finally {
      await Promise.all([dns.close(), allDead.close(), dead.close(), live.close()]);
    }
  });
});
