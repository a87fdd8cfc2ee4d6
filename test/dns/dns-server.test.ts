/**
 * The policy-aware DNS server with real sockets: forwarding of names the policy can allow,
 * REFUSED (and nothing sent upstream) for names it cannot, pins, monitor mode, events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  FakeUpstream,
  a,
  datas,
  query,
  rcodeName,
  startDns,
  tcpExchange,
  udpExchange,
  type TestDns,
  asDns,
} from './dns-harness.js';
import { eventually } from '../helpers/proxy-harness.js';

const POLICY = `version: 1
name: dns-test
mode: restrict
rules:
  - deny: [blocked.allowed.test]
  - allow: [allowed.test, 'api.allowed.test:8443', '10.9.0.0/16']
  - allow: [{ host: 'ntp.test', ports: 123, transport: udp }]
`;

const ZONE = {
  records: {
    'allowed.test': [a('allowed.test', '192.0.2.10')],
    'api.allowed.test': [a('api.allowed.test', '192.0.2.11')],
    'ntp.test': [a('ntp.test', '192.0.2.12')],
    'denied.test': [a('denied.test', '192.0.2.66')],
    'blocked.allowed.test': [a('blocked.allowed.test', '192.0.2.67')],
    '5.0.9.10.in-addr.arpa': [
      { type: 'PTR', name: '5.0.9.10.in-addr.arpa', ttl: 60, data: 'host.allowed.test' },
    ],
  } as Record<string, import('dns-packet').Answer[]>,
};

describe('DNS server (restrict)', () => {
  let upstream: FakeUpstream;
  let dns: TestDns;
  before(async () => {
    upstream = await new FakeUpstream('127.0.0.53', ZONE).start();
    dns = await startDns(POLICY, {
      upstreams: [upstream.upstream],
      pins: { 'pinned.test': ['127.0.0.2', '::1'] },
    });
  });
  after(async () => {
    await dns.close();
    await upstream.close();
  });

  it('forwards a name the policy allows and returns the upstream answer', async () => {
    const r = await udpExchange(dns.port, query('allowed.test', 'A', 7));
    assert.ok(r);
    assert.equal(r.id, 7);
    assert.equal(rcodeName(r), 'NOERROR');
    assert.deepEqual(datas(r), ['192.0.2.10']);
    assert.ok(upstream.names().includes('allowed.test'));
  });

  it('forwards names allowed only on one port or only over UDP', async () => {
    for (const name of ['api.allowed.test', 'ntp.test']) {
      const r = await udpExchange(dns.port, query(name));
      assert.equal(rcodeName(r!), 'NOERROR', name);
      assert.equal(r!.answers?.length, 1, name);
    }
  });

  it('answers REFUSED for names the policy cannot allow, and never asks upstream', async () => {
    for (const name of ['denied.test', 'blocked.allowed.test', 'sub.allowed.test']) {
      const r = await udpExchange(dns.port, query(name));
      assert.equal(rcodeName(r!), 'REFUSED', name);
      assert.equal(r!.answers?.length, 0);
    }
    const r = await tcpExchange(dns.port, [query('denied.test', 'TXT')]);
    assert.equal(rcodeName(r[0]!), 'REFUSED');
    assert.deepEqual(
      upstream
        .names()
        .filter((n) => n.includes('denied') || n.includes('blocked') || n.startsWith('sub.')),
      [],
    );
  });

  it('judges PTR questions by the address they name', async () => {
    const ok = await udpExchange(dns.port, query('5.0.9.10.in-addr.arpa', 'PTR'));
    assert.equal(rcodeName(ok!), 'NOERROR');
    assert.equal(datas(ok)[0], 'host.allowed.test');
    const refused = await udpExchange(dns.port, query('5.0.0.10.in-addr.arpa', 'PTR'));
    assert.equal(rcodeName(refused!), 'REFUSED');
    assert.ok(!upstream.names().includes('5.0.0.10.in-addr.arpa'));
  });

  it('answers pinned names itself: A and AAAA from the pin, other types empty', async () => {
    // pinned.test is not allowed by the policy: pins do not bypass it.
    assert.equal(rcodeName((await udpExchange(dns.port, query('pinned.test')))!), 'REFUSED');
    dns.policies.replace(
      (await import('../../src/policy/index.js')).compilePolicy(
        (await import('../../src/policy/formats/native/parse.js')).parseNative({
          text: POLICY + `  - allow: [pinned.test]\n`,
          file: 'p.yaml',
        }).policy,
      ),
    );
    const before = upstream.asked.length;
    const v4 = await udpExchange(dns.port, query('Pinned.Test', 'A'));
    assert.equal(rcodeName(v4!), 'NOERROR');
    assert.deepEqual(datas(v4!), ['127.0.0.2']);
    assert.equal(v4!.questions?.[0]?.name, 'Pinned.Test');
    const v6 = await udpExchange(dns.port, query('pinned.test', 'AAAA'));
    assert.deepEqual(datas(v6!), ['::1']);
    const mx = await udpExchange(dns.port, query('pinned.test', 'MX'));
    assert.equal(rcodeName(mx!), 'NOERROR');
    assert.equal(mx!.answers?.length, 0);
    assert.equal(upstream.asked.length, before, 'pins never reach upstream');
  });

  it('records one dns.query event per question, with the answer in extra', async () => {
    const start = dns.events.length;
    await udpExchange(dns.port, query('allowed.test', 'A'));
    await udpExchange(dns.port, query('denied.test', 'A'));
    await eventually(() => dns.events.length >= start + 2);
    const [ok, refused] = dns.events.slice(start).map(asDns);
    assert.equal(ok!.type, 'dns.query');
    assert.equal(ok!.verdict, 'allow');
    assert.equal(ok!.workspace, 'test-ws');
    assert.equal(ok!.client.address, '127.0.0.1');
    assert.deepEqual(ok!.destination, { host: 'allowed.test', port: 53, transport: 'udp' });
    assert.equal(ok!.dns.name, 'allowed.test');
    assert.equal(ok!.dns.type, 'A');
    assert.equal(ok!.dns.rcode, 'NOERROR');
    assert.deepEqual(ok!.dns.answers, ['A 192.0.2.10']);
    assert.equal(refused!.verdict, 'deny');
    assert.equal(refused!.enforced, true);
    assert.equal(refused!.reason, 'default_deny');
    assert.equal(refused!.severity, 'warning');
    assert.equal(refused!.dns.rcode, 'REFUSED');
    assert.equal(refused!.dns.source, 'refused');
    assert.match(refused!.description, /denied\.test refused/);
  });

  it('answers NOTIMP for other opcodes and FORMERR for several questions', async () => {
    const notify = Buffer.from(query('allowed.test'));
    notify.writeUInt16BE((4 << 11) | 0x0100, 2); // opcode NOTIFY
    assert.equal(rcodeName((await udpExchange(dns.port, notify))!), 'NOTIMP');
    const two = (await import('dns-packet')).default.encode({
      type: 'query',
      id: 1,
      questions: [
        { type: 'A', name: 'allowed.test' },
        { type: 'A', name: 'denied.test' },
      ],
    });
    assert.equal(rcodeName((await udpExchange(dns.port, two))!), 'FORMERR');
    await eventually(() => dns.events.some((e) => e.reason === 'dns_formerr'));
    assert.ok(dns.events.some((e) => e.reason === 'dns_notimp' && e.type === 'dns.query'));
  });
});

describe('DNS server (monitor)', () => {
  it('forwards names the policy would refuse and marks the event wouldDeny', async () => {
    const upstream = await new FakeUpstream('127.0.0.54', ZONE).start();
    const dns = await startDns(POLICY.replace('mode: restrict', 'mode: monitor'), {
      upstreams: [upstream.upstream],
    });
    try {
      const r = await udpExchange(dns.port, query('denied.test'));
      assert.equal(rcodeName(r!), 'NOERROR');
      assert.deepEqual(datas(r!), ['192.0.2.66']);
      assert.deepEqual(upstream.names(), ['denied.test']);
      await eventually(() => dns.events.length === 1);
      const e = asDns(dns.events[0]);
      assert.equal(e.wouldDeny, true);
      assert.equal(e.verdict, 'deny');
      assert.equal(e.enforced, false);
      assert.equal(e.severity, 'warning');
      assert.equal(e.dns.source, 'upstream');
      assert.match(e.description, /would refuse/);
    } finally {
      await dns.close();
      await upstream.close();
    }
  });
});
