/** Real DNS clients against the server: dig over UDP and TCP, and Node's dns.Resolver. */
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import { FakeUpstream, a, dig, startDns, type TestDns } from './dns-harness.js';
import { WITHOUT_DIG } from '../helpers/tools.js';

const POLICY = `version: 1
name: dns-clients
mode: restrict
rules:
  - allow: ['**.allowed.test', allowed.test]
`;

describe('DNS clients', { skip: WITHOUT_DIG }, () => {
  let upstream: FakeUpstream;
  let dns: TestDns;
  before(async () => {
    upstream = await new FakeUpstream('127.0.0.55', {
      records: {
        'allowed.test': [a('allowed.test', '192.0.2.20'), a('allowed.test', '192.0.2.21')],
        'www.allowed.test': [
          { type: 'TXT', name: 'www.allowed.test', ttl: 60, data: ['hello'] },
          { type: 'AAAA', name: 'www.allowed.test', ttl: 60, data: '2001:db8::20' },
        ],
        'denied.test': [a('denied.test', '192.0.2.66')],
      },
    }).start();
    dns = await startDns(POLICY, {
      upstreams: [upstream.upstream],
      pins: { 'pin.allowed.test': ['127.0.0.9'] },
    });
  });
  after(async () => {
    await dns.close();
    await upstream.close();
  });

  it('dig over UDP: answer for an allowed name, REFUSED for a denied one', async () => {
    const ok = await dig(dns.port, ['allowed.test', 'A']);
    assert.match(ok, /status: NOERROR/);
    assert.match(ok, /allowed\.test\.\s+\d+\s+IN\s+A\s+192\.0\.2\.20/);
    const refused = await dig(dns.port, ['denied.test', 'A']);
    assert.match(refused, /status: REFUSED/);
    assert.ok(!upstream.names().includes('denied.test'));
  });

  it('dig +tcp: the same answers over TCP', async () => {
    const ok = await dig(dns.port, ['+tcp', 'www.allowed.test', 'TXT']);
    assert.match(ok, /status: NOERROR/);
    assert.match(ok, /"hello"/);
    assert.match(await dig(dns.port, ['+tcp', 'denied.test']), /status: REFUSED/);
    const events = dns.events.filter((e) => e.destination?.transport === 'tcp');
    assert.ok(events.length >= 2);
  });

  it('dig +short with a pin and an AAAA record', async () => {
    assert.equal((await dig(dns.port, ['+short', 'pin.allowed.test'])).trim(), '127.0.0.9');
    assert.equal(
      (await dig(dns.port, ['+short', 'www.allowed.test', 'AAAA'])).trim(),
      '2001:db8::20',
    );
  });

  it("Node's dns.Resolver with setServers", async () => {
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${dns.port}`]);
    assert.deepEqual((await resolver.resolve4('allowed.test')).sort(), [
      '192.0.2.20',
      '192.0.2.21',
    ]);
    assert.deepEqual(await resolver.resolveTxt('www.allowed.test'), [['hello']]);
    await assert.rejects(resolver.resolve4('denied.test'), { code: 'EREFUSED' });
    await assert.rejects(resolver.resolve4('nx.allowed.test'), { code: 'ENOTFOUND' });
  });
});
