/**
 * The UDP relay's and publishing's pure parts: which UDP the nft rules send to the relay, the
 * ruleset the installed nft accepts, reading the original-destination maps back, deciding a
 * flow like the proxy would, the ingress decision, and finding a UDP server's address inside.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  compilePolicy,
  decideIngress,
  decideObservedAddress,
  emptyPolicy,
  type Policy,
} from '../../src/policy/index.js';
import { nftRuleset } from '../../src/dataplane/sandbox/rules/netns-rules.js';
import { AnsweredNames } from '../../src/dataplane/dns/answered-names.js';
import { mergePorts, planUdpRelays } from '../../src/dataplane/sandbox/rules/relay-plan.js';
import { parseOrigins } from '../../src/dataplane/sandbox/inside/parse-nft.js';
import { udpListenerAddress } from '../../src/dataplane/sandbox/inside/publish-relay.js';
import { OriginLookup } from '../../src/dataplane/sandbox/host/origins.js';
import type { BridgeOriginRequest } from '../../src/dataplane/sandbox/protocol.js';
import { commandExists } from '../helpers/sandbox.js';

function policyOf(rules: Policy['rules'], extra: Partial<Policy> = {}): Policy {
  return { ...emptyPolicy('p', 'restrict'), rules, ...extra };
}

const udp = 'udp' as const;

describe('UDP relay units', () => {
  it('plans one nft match per selector and family; names match any address and are resolved', async () => {
    const policy = policyOf([
      {
        kind: 'allow',
        selectors: [
          { ports: [{ from: 5000, to: 5000 }], transport: udp },
          { cidr: '10.0.0.0/8', transport: udp },
          { host: 'turn.example', ports: [{ from: 3478, to: 3478 }], transport: udp },
          { host: '*.example', transport: udp },
          { host: 'tcp-only.example' },
          { ports: [{ from: 53, to: 53 }], transport: udp },
        ],
      },
    ]);
    const plan = await planUdpRelays(policy, (name) =>
      Promise.resolve(name === 'turn.example' ? ['203.0.113.5', '2001:db8::5'] : []),
    );
    const any = (ports: { from: number; to: number }[] | null) => [
      { family: 4, addresses: null, ports },
      { family: 6, addresses: null, ports },
    ];
    assert.deepEqual(plan.matches, [
      ...any([{ from: 5000, to: 5000 }]),
      { family: 4, addresses: ['10.0.0.0/8'], ports: null },
      ...any([{ from: 3478, to: 3478 }]),
      ...any(null),
    ]);
    assert.deepEqual(plan.names.get('203.0.113.5'), ['turn.example']);
    assert.deepEqual(plan.names.get('2001:db8::5'), ['turn.example']);
    assert.equal(plan.names.size, 2);
    assert.deepEqual(
      mergePorts([
        { from: 7, to: 9 },
        { from: 1, to: 3 },
        { from: 4, to: 5 },
      ]),
      [
        { from: 1, to: 5 },
        { from: 7, to: 9 },
      ],
    );
    assert.equal(mergePorts([{ from: 1, to: 65535 }]), null);
  });

  it('writes redirects that keep the sandbox own loopback and DNS, and origin maps', () => {
    const rules = nftRuleset([
      { family: 4, addresses: null, ports: [{ from: 5000, to: 5001 }] },
      { family: 4, addresses: ['127.0.0.4', '203.0.113.5'], ports: null },
      { family: 6, addresses: ['::1'], ports: [{ from: 7000, to: 7000 }] },
    ]);
    const at = (text: string) => {
      const i = rules.indexOf(text);
      assert.ok(i >= 0, `missing: ${text}\n${rules}`);
      return i;
    };
    const loopbackReturn = at('ip daddr 127.0.0.0/8 return');
    const dns = at('th dport 53 redirect');
    assert.ok(
      at('ip daddr 127.0.0.4 udp dport != 53 redirect to :15100') < loopbackReturn,
      'a named loopback address is the host',
    );
    assert.ok(at('ip6 daddr ::1 udp dport != 53 udp dport 7000 redirect to :15100') < dns);
    assert.ok(at('ip daddr != 198.18.0.1 udp dport != 53 udp dport 5000-5001 redirect') > dns);
    assert.ok(at('ip daddr 203.0.113.5 udp dport != 53 redirect to :15100') > dns);
    at('update @udpaddr4 { udp sport : ct original ip daddr }');
    at('snat ip6 to fd00:e9e5::1');
    assert.ok(!nftRuleset([]).includes('udpaddr4'), 'no relay, no maps');
  });

  it('the installed nft accepts the ruleset', (t) => {
    if (!commandExists('nft') || !commandExists('unshare')) return t.skip('no nft');
    const rules = nftRuleset([
      { family: 4, addresses: null, ports: [{ from: 5000, to: 5000 }] },
      { family: 6, addresses: ['::1', '2001:db8::/32'], ports: null },
    ]);
    const r = spawnSync('unshare', ['-Urn', 'nft', '-c', '-f', '-'], { input: rules });
    assert.equal(r.status, 0, r.stderr.toString());
  });

  it('joins the nft address and port maps by source port', () => {
    const list = (name: string, elem: unknown[]) =>
      JSON.stringify({ nftables: [{ metainfo: {} }, { map: { name, elem } }] });
    const origins = parseOrigins(
      list('udpaddr4', [
        [{ elem: { val: 40000, expires: 20 } }, '203.0.113.5'],
        [40001, '10.0.0.1'],
        [40002, '10.0.0.2'],
      ]),
      list('udpport4', [
        [{ elem: { val: 40000, expires: 20 } }, 3478],
        [40001, 5000],
      ]),
    );
    assert.deepEqual(origins, [
      { sport: 40000, ip: '203.0.113.5', port: 3478 },
      { sport: 40001, ip: '10.0.0.1', port: 5000 },
    ]);
    assert.deepEqual(parseOrigins('', 'not json'), []);
  });

  it('batches lookups: one read answers every port asked before it started', async () => {
    const asked: BridgeOriginRequest[] = [];
    const lookup = new OriginLookup((request) => asked.push(request));
    const a = lookup.find(4, 1000);
    const b = lookup.find(4, 1001);
    assert.equal(asked.length, 1);
    const c = lookup.find(4, 1002); // waits for the next read
    // An answer for the other protocol's lookup is not this one's.
    lookup.answer({ type: 'origins', id: asked[0]!.id, family: 4, proto: 'tcp', entries: [] });
    assert.equal(asked.length, 1);
    lookup.answer({
      type: 'origins',
      id: asked[0]!.id,
      family: 4,
      proto: 'udp',
      entries: [
        { sport: 1000, ip: '203.0.113.5', port: 9 },
        { sport: 1002, ip: '203.0.113.6', port: 9 },
      ],
    });
    assert.deepEqual(await a, { sport: 1000, ip: '203.0.113.5', port: 9 });
    assert.equal(await b, null);
    assert.equal(asked.length, 2);
    assert.equal(asked[0]!.proto, 'udp');
    lookup.close();
    assert.equal(await c, null, 'still waiting at the end: fail closed');
  });

  it('decides a flow as the proxy would: names first, then the address and its class', () => {
    const compiled = compilePolicy(
      policyOf([
        { kind: 'deny', selectors: [{ cidr: '203.0.113.66' }] },
        { kind: 'allow', selectors: [{ host: 'turn.example', transport: udp }] },
        { kind: 'allow', selectors: [{ ports: [{ from: 5000, to: 5000 }], transport: udp }] },
      ]),
    );
    const byName = decideObservedAddress(compiled, ['turn.example'], '198.51.100.7', 3478, 'udp');
    assert.equal(byName.verdict, 'allow');
    assert.equal(byName.destination.host, 'turn.example');
    assert.equal(decideObservedAddress(compiled, [], '198.51.100.7', 5000, 'udp').rule?.index, 2);
    assert.equal(
      decideObservedAddress(compiled, [], '198.51.100.7', 5001, 'udp').reason,
      'default_deny',
    );
    assert.equal(
      decideObservedAddress(compiled, [], '203.0.113.66', 5000, 'udp').reason,
      'denied_by_rule',
    );
    // Denied by default: said with the name looked up (what --learn writes); a deny rule or an
    // address class on the address is said as it is.
    const unnamed = decideObservedAddress(compiled, ['ssh.example'], '198.51.100.7', 22, 'tcp');
    assert.equal(unnamed.reason, 'default_deny');
    assert.equal(unnamed.destination.host, 'ssh.example');
    assert.equal(unnamed.destination.ip, '198.51.100.7');
    const ruled = decideObservedAddress(compiled, ['ssh.example'], '203.0.113.66', 22, 'tcp');
    assert.equal(ruled.reason, 'denied_by_rule');
    assert.equal(ruled.destination.host, '203.0.113.66');
    assert.equal(
      decideObservedAddress(compiled, [], '127.0.0.1', 5000, 'udp').reason,
      'ip_class:loopback',
    );
    assert.equal(
      decideObservedAddress(compiled, [], '100.100.100.200', 5000, 'udp').reason,
      'ip_class:metadata',
    );
    const named = decideObservedAddress(compiled, ['turn.example'], '10.0.0.8', 3478, 'udp');
    assert.equal(named.reason, 'ip_class:private');
    assert.equal(named.rule?.index, 1, 'the rule that allowed the name is named');
  });

  it('decides ingress by the ingress rules; no section = unrestricted', () => {
    const ingress = {
      default: 'deny' as const,
      allow: [{ ports: [{ from: 9000, to: 9000 }], transport: udp }],
    };
    const restrict = compilePolicy(policyOf([], { ingress }));
    const ok = decideIngress(restrict, { port: 9000, transport: 'udp' });
    assert.deepEqual(
      [ok.verdict, ok.reason, ok.rule?.kind],
      ['allow', 'allowed_by_rule', 'ingress'],
    );
    const tcp = decideIngress(restrict, { port: 9000, transport: 'tcp' });
    assert.deepEqual([tcp.verdict, tcp.allowed, tcp.reason], ['deny', false, 'default_deny']);
    const monitor = compilePolicy({ ...policyOf([], { ingress }), mode: 'monitor' });
    const would = decideIngress(monitor, { port: 1, transport: 'tcp' });
    assert.deepEqual([would.allowed, would.wouldDeny], [true, true]);
    const none = decideIngress(compilePolicy(policyOf([])), { port: 1, transport: 'tcp' });
    assert.deepEqual([none.verdict, none.reason], ['allow', 'ingress_unrestricted']);
  });

  it('finds the loopback address a UDP server listens on from /proc/net/udp', () => {
    const head = '  sl  local_address rem_address   st\n';
    const tables: Record<string, string> = {
      udp: `${head}   1: 0100007F:2328 00000000:0000 07\n   2: 00000000:2329 00000000:0000 07\n`,
      udp6: `${head}   3: 00000000000000000000000001000000:232A 00000000000000000000000000000000:0000 07\n`,
    };
    const read = (t: string) => tables[t] ?? '';
    assert.equal(udpListenerAddress(9000, read), '127.0.0.1');
    assert.equal(udpListenerAddress(9001, read), '127.0.0.1');
    assert.equal(udpListenerAddress(9002, read), '::1');
    assert.equal(udpListenerAddress(9003, read), null);
  });
});

describe('names the sandbox DNS answered', () => {
  const a = (data: string, ttl = 30) => ({ type: 'A' as const, name: 'x', ttl, data });
  const aaaa = (data: string, ttl = 30) => ({ type: 'AAAA' as const, name: 'x', ttl, data });

  it('maps each answered address to the name asked, canonical, for at least ten minutes', () => {
    let now = 1_000_000;
    const names = new AnsweredNames(() => now);
    names.record('time.pool.test', [
      a('203.0.113.7'),
      aaaa('2001:DB8:0:0::7'),
      { type: 'CNAME', name: 'x', ttl: 30, data: 'other.test' },
    ]);
    names.record('ntp.other.test', [a('203.0.113.7', 7200)]);
    assert.deepEqual(names.namesFor('203.0.113.7'), ['time.pool.test', 'ntp.other.test']);
    assert.deepEqual(names.namesFor('2001:db8::7'), ['time.pool.test']);
    assert.deepEqual(names.namesFor('[2001:db8::7]'), ['time.pool.test']);
    assert.deepEqual(names.namesFor('203.0.113.8'), []);
    assert.deepEqual(names.namesFor('not an address'), []);
    now += 601_000; // past the 600 s floor: the 30 s answer is gone, the 2 h one stays
    assert.deepEqual(names.namesFor('203.0.113.7'), ['ntp.other.test']);
    assert.deepEqual(names.namesFor('2001:db8::7'), []);
    now += 7_200_000;
    assert.deepEqual(names.namesFor('203.0.113.7'), []);
    assert.equal(names.size, 0);
  });

  it('keeps at most 4096 addresses, dropping the longest-unrefreshed first', () => {
    const names = new AnsweredNames(() => 0);
    names.record('first.test', [a('198.51.100.1')]);
    for (let i = 0; i < 4096; i++)
      names.record(`n${i}.test`, [a(`10.${(i >> 8) & 255}.${i & 255}.1`)]);
    assert.equal(names.size, 4096);
    assert.deepEqual(names.namesFor('198.51.100.1'), []);
    assert.deepEqual(names.namesFor('10.0.0.1'), ['n0.test']);
  });
});
