/**
 * nameMayBeAllowed() / questionMayBeAllowed(): may a name be allowed on any port and transport?
 * Exactness is checked against a brute force over every port on random policies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  addressFromReverseName,
  compilePolicy,
  decide,
  emptyPolicy,
  nameMayBeAllowed,
  questionMayBeAllowed,
  type Policy,
  type Rule,
  type RuleKind,
  type Selector,
} from '../../src/policy/index.js';
import { compileNative } from '../policy/helpers.js';

const may = (body: string, name: string, mode = 'restrict') =>
  nameMayBeAllowed(compileNative(body, { mode }), name);

describe('nameMayBeAllowed', () => {
  it('a name allowed only on one port may be resolved', () => {
    const v = may(`rules:\n  - allow: ['api.example.com:8443']\n`, 'api.example.com');
    assert.equal(v.mayBeAllowed, true);
    assert.equal(v.decision.destination.port, 8443);
    assert.equal(v.decision.reason, 'allowed_by_rule');
  });

  it('a name allowed only over UDP may be resolved', () => {
    const c = compileNative(
      `rules:\n  - allow: [{ host: ntp.example.com, ports: 123, transport: udp }]\n`,
    );
    const v = nameMayBeAllowed(c, 'ntp.example.com');
    assert.equal(v.mayBeAllowed, true);
    assert.equal(v.decision.destination.transport, 'udp');
  });

  it('a name reaching default deny is refused, with the tcp/443 decision as the reason', () => {
    const v = may(`rules:\n  - allow: [other.example]\n`, 'api.example.com');
    assert.equal(v.mayBeAllowed, false);
    assert.equal(v.decision.reason, 'default_deny');
    assert.equal(v.decision.destination.port, 443);
  });

  it('a name denied on every port is refused even if a later rule allows it', () => {
    const v = may(
      `rules:\n  - deny: ['**.example.com']\n  - allow: [api.example.com]\n`,
      'api.example.com',
    );
    assert.equal(v.mayBeAllowed, false);
    assert.equal(v.decision.reason, 'denied_by_rule');
    assert.equal(v.decision.rule?.index, 0);
  });

  it('a deny on some ports leaves the rest to later rules', () => {
    const body = `rules:\n  - deny: ['api.example.com:1-442', 'api.example.com:444-65535']\n  - allow: [api.example.com]\n`;
    assert.equal(may(body, 'api.example.com').mayBeAllowed, true);
    const closed = `rules:\n  - deny: ['api.example.com:1-442', 'api.example.com:443-65535']\n  - allow: [api.example.com]\n`;
    assert.equal(may(closed, 'api.example.com').mayBeAllowed, false);
  });

  it('a TCP-only deny leaves a later UDP allow', () => {
    const body = `rules:\n  - deny: [{ host: x.example, transport: tcp }]\n  - allow: [{ host: x.example, transport: udp }]\n`;
    assert.equal(may(body, 'x.example').mayBeAllowed, true);
  });

  it('decide rules count as "may be allowed"', () => {
    const body = `decider: { url: 'http://127.0.0.1:9/decide' }\nrules:\n  - decide: ['**.agents.example']\n`;
    const v = may(body, 'a.agents.example');
    assert.equal(v.mayBeAllowed, true);
    assert.equal(v.decision.reason, 'decider_required');
  });

  it('attached resources count', () => {
    const policy: Policy = {
      ...emptyPolicy('t', 'restrict'),
      rules: [{ kind: 'deny', selectors: [{ host: '**.corp.example' }] }],
      resources: [{ kind: 'repository', host: 'git.corp.example', ports: [{ from: 22, to: 22 }] }],
    };
    const v = nameMayBeAllowed(compilePolicy(policy), 'git.corp.example');
    assert.equal(v.mayBeAllowed, true);
    assert.equal(v.decision.reason, 'attached_resource');
    assert.equal(nameMayBeAllowed(compilePolicy(policy), 'www.corp.example').mayBeAllowed, false);
  });

  it('port-only rules (any destination) and "*" count', () => {
    assert.equal(
      may(`rules:\n  - allow: [{ any: true, ports: 53 }]\n`, 'x.example').mayBeAllowed,
      true,
    );
    assert.equal(may(`rules:\n  - allow: ['*']\n`, 'x.example').mayBeAllowed, true);
  });

  it('default allow makes unmatched names resolvable; monitor mode still reports the verdict', () => {
    assert.equal(
      may(`default: allow\nrules:\n  - deny: [evil.example]\n`, 'x.example').mayBeAllowed,
      true,
    );
    const v = may(`rules:\n  - allow: [ok.example]\n`, 'x.example', 'monitor');
    assert.equal(v.mayBeAllowed, false);
    assert.equal(v.decision.wouldDeny, true);
  });

  it('names that cannot be normalised are never allowed', () => {
    const v = may(`default: allow\n`, 'a..b');
    assert.equal(v.mayBeAllowed, false);
    assert.equal(v.decision.reason, 'invalid_destination');
    assert.equal(may(`default: allow\n`, '').mayBeAllowed, false);
  });

  it('is case-insensitive and ignores one trailing dot', () => {
    assert.equal(
      may(`rules:\n  - allow: [api.example.com]\n`, 'API.Example.COM.').mayBeAllowed,
      true,
    );
  });
});

describe('questionMayBeAllowed (reverse names)', () => {
  it('parses full reverse names only', () => {
    assert.equal(addressFromReverseName('4.3.2.1.in-addr.arpa'), '1.2.3.4');
    assert.equal(addressFromReverseName('3.2.1.in-addr.arpa'), undefined);
    assert.equal(addressFromReverseName('04.3.2.1.in-addr.arpa'), undefined);
    assert.equal(addressFromReverseName('256.3.2.1.in-addr.arpa'), undefined);
    const v6 = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa';
    assert.equal(addressFromReverseName(v6), '2001:db8::1');
    assert.equal(addressFromReverseName('0.8.b.d.0.1.0.0.2.ip6.arpa'), undefined);
  });

  it('a PTR question is judged by the address it names', () => {
    const c = compileNative(`rules:\n  - allow: ['10.1.0.0/16', '**.example.com']\n`);
    assert.equal(questionMayBeAllowed(c, '5.0.1.10.in-addr.arpa').mayBeAllowed, true);
    assert.equal(questionMayBeAllowed(c, '5.0.2.10.in-addr.arpa').mayBeAllowed, false);
    // Host-name wildcards never match addresses, and loopback is a denied class.
    const open = compileNative(`rules:\n  - allow: ['*']\n`);
    assert.equal(questionMayBeAllowed(open, '1.0.0.127.in-addr.arpa').mayBeAllowed, false);
    // Partial reverse zones and SRV names are judged as names.
    assert.equal(questionMayBeAllowed(open, '0.127.in-addr.arpa').mayBeAllowed, true);
    assert.equal(questionMayBeAllowed(c, '_https._tcp.www.example.com').mayBeAllowed, true);
  });
});

describe('nameMayBeAllowed is exact (brute force over every port)', () => {
  // Port ranges stay within 1..100, so every port above 100 behaves like 101.
  const port = fc.integer({ min: 1, max: 100 });
  const ranges = fc.array(
    fc.tuple(port, port).map(([a, b]) => ({ from: Math.min(a, b), to: Math.max(a, b) })),
    { maxLength: 2 },
  );
  const hosts = ['a.example', '*.example', '**.example', 'b.a.example', '*'];
  const selector: fc.Arbitrary<Selector> = fc
    .record({
      host: fc.option(fc.constantFrom(...hosts), { nil: undefined }),
      ports: ranges,
      transport: fc.option(fc.constantFrom('tcp' as const, 'udp' as const, 'any' as const), {
        nil: undefined,
      }),
    })
    .map((s) => {
      const out: Selector = {};
      if (s.host) out.host = s.host;
      if (s.ports.length) out.ports = s.ports;
      if (s.transport) out.transport = s.transport;
      return out;
    });
  const rule: fc.Arbitrary<Rule> = fc.record({
    kind: fc.constantFrom<RuleKind>('allow', 'deny', 'deny', 'decide'),
    selectors: fc.array(selector, { minLength: 1, maxLength: 3 }),
  });

  it('agrees with trying every port on both transports', () => {
    fc.assert(
      fc.property(
        fc.array(rule, { maxLength: 6 }),
        fc.constantFrom('allow', 'deny'),
        (rules, def) => {
          const compiled = compilePolicy({
            ...emptyPolicy('p', 'restrict'),
            default: def as 'allow' | 'deny',
            rules,
          });
          for (const name of ['a.example', 'b.a.example', 'c.b.a.example', 'other.test']) {
            let brute = false;
            for (const transport of ['tcp', 'udp'] as const) {
              for (let p = 1; p <= 101 && !brute; p++) {
                const d = decide(compiled, { host: name, port: p, transport });
                brute = d.verdict === 'allow' || d.reason === 'decider_required';
              }
            }
            assert.equal(nameMayBeAllowed(compiled, name).mayBeAllowed, brute, name);
          }
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
  });
});
