/** decide() and decideAddress(): rule order, defaults, modes, transports and IP safety. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, decideAddress, explain, type Decision } from '../../src/policy/index.js';
import { ask, compileNative, policyWith } from './helpers.js';

describe('first match wins', () => {
  it('an earlier, broader rule beats a later, more specific one (trie)', () => {
    const c = compileNative(`rules:
  - deny: ['**.example.com']
  - allow: [api.example.com]
`);
    const d = ask(c, 'api.example.com');
    assert.equal(d.verdict, 'deny');
    assert.equal(d.rule?.index, 0);
  });

  it('an earlier exact allow beats a later wildcard deny', () => {
    const c = compileNative(`rules:
  - allow: [api.example.com]
  - deny: ['**.example.com']
`);
    assert.equal(ask(c, 'api.example.com').verdict, 'allow');
    assert.equal(ask(c, 'www.example.com').verdict, 'deny');
  });

  it('order holds across host names, "*", and any-destination entries', () => {
    const c = compileNative(`default: allow
rules:
  - deny: [{ any: true, ports: 25 }]
  - allow: ['*']
  - deny: [evil.example]
`);
    assert.equal(ask(c, 'evil.example').reason, 'allowed_by_rule');
    assert.equal(ask(c, 'evil.example', 25).reason, 'denied_by_rule');
    assert.equal(ask(c, 'evil.example', 25).rule?.index, 0);
  });

  it('order holds across the IP table and any-destination entries', () => {
    const c = compileNative(`rules:
  - allow: [{ any: true, ports: 8443 }]
  - deny: [8.8.0.0/16]
  - allow: [8.8.8.8]
`);
    assert.equal(ask(c, '8.8.8.8', 8443).reason, 'allowed_by_rule');
    assert.equal(ask(c, '8.8.8.8', 8443).rule?.index, 0);
    assert.equal(ask(c, '8.8.8.8', 443).reason, 'denied_by_rule');
    assert.equal(ask(c, '8.8.8.8', 443).rule?.index, 1);
  });

  it('a narrower port on an earlier rule lets a later rule decide other ports', () => {
    const c = compileNative(`rules:
  - deny: ['example.com:80']
  - allow: [example.com]
`);
    assert.equal(ask(c, 'example.com', 80).verdict, 'deny');
    assert.equal(ask(c, 'example.com', 443).verdict, 'allow');
  });

  it('the rule reference points at the entry that matched', () => {
    const c = compileNative(`rules:
  - name: tools
    allow:
      - a.example
      - '**.b.example:443'
`);
    const d = ask(c, 'x.b.example');
    assert.deepEqual(d.rule, {
      index: 0,
      kind: 'allow',
      source: 'p.yaml:8:9',
      pattern: '**.b.example:443',
      name: 'tools',
    });
  });
});

describe('defaults', () => {
  it('default is deny unless stated', () => {
    const c = compileNative('rules: []\n');
    const d = ask(c, 'example.com');
    assert.equal(d.verdict, 'deny');
    assert.equal(d.reason, 'default_deny');
    assert.equal(d.rule, null);
  });

  it('default allow', () => {
    const c = compileNative('default: allow\n');
    const d = ask(c, 'example.com');
    assert.equal(d.verdict, 'allow');
    assert.equal(d.reason, 'default_allow');
    assert.equal(d.allowed, true);
  });
});

describe('modes', () => {
  const rules = `rules:
  - allow: [ok.example]
`;
  it('monitor: allowed is always true; a deny is reported as wouldDeny', () => {
    const c = compileNative(rules, { mode: 'monitor' });
    const denied = ask(c, 'other.example');
    assert.equal(denied.allowed, true);
    assert.equal(denied.verdict, 'deny');
    assert.equal(denied.enforced, false);
    assert.equal(denied.wouldDeny, true);
    const allowed = ask(c, 'ok.example');
    assert.equal(allowed.allowed, true);
    assert.equal(allowed.wouldDeny, false);
    assert.equal(allowed.enforced, false);
  });

  for (const mode of ['restrict', 'inspect'])
    it(`${mode} enforces`, () => {
      const c = compileNative(rules, { mode });
      const denied = ask(c, 'other.example');
      assert.equal(denied.allowed, false);
      assert.equal(denied.enforced, true);
      assert.equal(denied.wouldDeny, false);
      assert.equal(denied.mode, mode);
      assert.equal(ask(c, 'ok.example').allowed, true);
    });

  describe('a deny rule with "enforce: always"', () => {
    const flagged = `rules:
  - name: never
    deny: ['**.blocked.example', 203.0.113.0/24]
    enforce: always
  - deny: [plain.example]
  - allow: ['**.example', 198.51.100.0/24]
`;
    it('denies even in monitor mode: allowed false, enforced, not wouldDeny', () => {
      const c = compileNative(flagged, { mode: 'monitor' });
      for (const host of ['a.blocked.example', '203.0.113.9']) {
        const d = ask(c, host);
        assert.deepEqual(
          [d.allowed, d.verdict, d.mode, d.enforced, d.wouldDeny, d.reason, d.rule?.index],
          [false, 'deny', 'monitor', true, false, 'denied_by_rule', 0],
          host,
        );
        assert.match(explain(d), /^Denied .*blocked even in monitor mode.*enforce: always/);
      }
    });

    it('leaves every other decision of monitor mode as it was', () => {
      const c = compileNative(flagged, { mode: 'monitor' });
      const plain = ask(c, 'plain.example');
      assert.deepEqual(
        [plain.allowed, plain.enforced, plain.wouldDeny, plain.rule?.index],
        [true, false, true, 1],
      );
      assert.match(explain(plain), /monitor mode: let through/);
      const byDefault = ask(c, 'elsewhere.test');
      assert.deepEqual([byDefault.allowed, byDefault.wouldDeny], [true, true]);
      const allowed = ask(c, 'ok.example');
      assert.deepEqual(
        [allowed.allowed, allowed.enforced, allowed.wouldDeny],
        [true, false, false],
      );
    });

    it('without the flag the same rule only reports in monitor mode', () => {
      const c = compileNative(flagged.replace('    enforce: always\n', ''), { mode: 'monitor' });
      const d = ask(c, 'a.blocked.example');
      assert.deepEqual([d.allowed, d.enforced, d.wouldDeny], [true, false, true]);
    });

    it('changes nothing in restrict mode', () => {
      const c = compileNative(flagged, { mode: 'restrict' });
      const d = ask(c, 'a.blocked.example');
      assert.deepEqual([d.allowed, d.enforced, d.wouldDeny], [false, true, false]);
      assert.doesNotMatch(explain(d), /monitor/);
    });

    it('decideAddress: an allowed name resolving into the flagged range is blocked', () => {
      const c = compileNative(flagged, { mode: 'monitor' });
      const first = ask(c, 'ok.example');
      const blocked = decideAddress(c, first, '203.0.113.5');
      assert.deepEqual(
        [blocked.allowed, blocked.enforced, blocked.wouldDeny, blocked.rule?.index],
        [false, true, false, 0],
      );
      const fine = decideAddress(c, first, '198.51.100.5');
      assert.equal(fine.allowed, true);
      // A flagged name's denial stays enforced through phase two.
      const denied = decideAddress(c, ask(c, 'a.blocked.example'), '198.51.100.5');
      assert.deepEqual([denied.allowed, denied.enforced], [false, true]);
    });
  });

  it('an invalid destination is never let through, even in monitor mode', () => {
    const c = compileNative(rules, { mode: 'monitor' });
    const d = ask(c, 'bad host');
    assert.equal(d.reason, 'invalid_destination');
    assert.equal(d.allowed, false);
    assert.equal(d.wouldDeny, false);
    assert.match(d.error ?? '', /space/);
  });

  it('ports outside 1..65535 are invalid destinations', () => {
    const c = compileNative('default: allow\n');
    for (const port of [0, 65536, -1, 1.5, NaN]) {
      const d = ask(c, 'example.com', port);
      assert.equal(d.reason, 'invalid_destination', String(port));
      assert.equal(d.allowed, false);
    }
  });
});

describe('attached resources', () => {
  const c = compileNative(`rules:
  - deny: ['**.example.com', 10.0.0.0/8]
resources:
  - { kind: repository, name: app, host: git.example.com, ports: [22, 443] }
  - { kind: ssh, host: 10.1.2.3 }
`);

  it('beat deny rules', () => {
    const d = ask(c, 'git.example.com', 22);
    assert.equal(d.allowed, true);
    assert.equal(d.reason, 'attached_resource');
    assert.deepEqual(d.rule, {
      index: 0,
      kind: 'resource',
      source: 'p.yaml:7:5',
      pattern: 'git.example.com:22,443',
    });
  });

  it('only on their ports', () => {
    assert.equal(ask(c, 'git.example.com', 80).reason, 'denied_by_rule');
  });

  it('an IP resource is reachable although its class and a rule would deny it', () => {
    const d = ask(c, '10.1.2.3', 22);
    assert.equal(d.reason, 'attached_resource');
    assert.equal(d.rule?.index, 1);
  });

  it('stay reachable when their name resolves to a denied range', () => {
    const d = ask(c, 'git.example.com', 443);
    const after = decideAddress(c, d, '10.9.9.9');
    assert.equal(after.allowed, true);
    assert.equal(after.reason, 'attached_resource');
    assert.equal(after.destination.ip, '10.9.9.9');
    assert.equal(decideAddress(c, ask(c, '10.1.2.3', 22), '10.1.2.3').allowed, true);
  });

  it('are tcp only', () => {
    assert.equal(ask(c, 'git.example.com', 22, 'udp').reason, 'denied_by_rule');
  });
});

describe('decide rules', () => {
  it('fail closed with decider_required and carry the decider to ask', () => {
    const c = compileNative(`decider: { url: 'http://127.0.0.1:9/decide' }
default: allow
rules:
  - decide: ['**.example.com']
  - decide: [other.example]
    decider: { module: ./d.mjs, timeoutMs: 100, cache: false }
`);
    const d = ask(c, 'a.example.com');
    assert.equal(d.verdict, 'deny');
    assert.equal(d.allowed, false);
    assert.equal(d.reason, 'decider_required');
    assert.deepEqual(d.decider, { url: 'http://127.0.0.1:9/decide', timeoutMs: 5000, cache: true });
    assert.deepEqual(ask(c, 'other.example').decider, {
      module: './d.mjs',
      timeoutMs: 100,
      cache: false,
    });
  });

  it('without any decider (model built by hand) still deny', () => {
    const c = compilePolicy(
      policyWith([{ kind: 'decide', selectors: [{ host: 'a.example' }] }], { default: 'allow' }),
    );
    const d = ask(c, 'a.example');
    assert.equal(d.reason, 'decider_required');
    assert.equal(d.allowed, false);
    assert.equal(d.decider, undefined);
    assert.match(explain(d), /none is configured/);
  });
});

describe('ports and transports', () => {
  it('an allow without transport is tcp only', () => {
    const c = compileNative(`rules:
  - allow: [dns.example]
`);
    assert.equal(ask(c, 'dns.example', 53, 'tcp').verdict, 'allow');
    assert.equal(ask(c, 'dns.example', 53, 'udp').verdict, 'deny');
    assert.equal(ask(c, 'dns.example', 53).destination.transport, 'tcp');
  });

  it('a deny without transport covers udp too', () => {
    const c = compileNative(`default: allow
rules:
  - deny: [dns.example]
`);
    assert.equal(ask(c, 'dns.example', 53, 'udp').verdict, 'deny');
    assert.equal(ask(c, 'dns.example', 53, 'tcp').verdict, 'deny');
  });

  it('transport: udp and transport: any', () => {
    const c = compileNative(`rules:
  - allow: [{ host: u.example, transport: udp }]
  - allow: [{ host: a.example, transport: any }]
  - allow: [t.example]
    transport: udp
    ports: [53, '5000-5001']
`);
    assert.equal(ask(c, 'u.example', 1, 'udp').verdict, 'allow');
    assert.equal(ask(c, 'u.example', 1, 'tcp').verdict, 'deny');
    assert.equal(ask(c, 'a.example', 1, 'udp').verdict, 'allow');
    assert.equal(ask(c, 'a.example', 1, 'tcp').verdict, 'allow');
    assert.equal(ask(c, 't.example', 5001, 'udp').verdict, 'allow');
    assert.equal(ask(c, 't.example', 5002, 'udp').verdict, 'deny');
    assert.equal(ask(c, 't.example', 53, 'tcp').verdict, 'deny');
  });

  it('a port in the entry overrides the rule ports', () => {
    const c = compileNative(`rules:
  - allow: ['a.example:8080', b.example]
    ports: 443
`);
    assert.equal(ask(c, 'a.example', 8080).verdict, 'allow');
    assert.equal(ask(c, 'a.example', 443).verdict, 'deny');
    assert.equal(ask(c, 'b.example', 443).verdict, 'allow');
    assert.equal(ask(c, 'b.example', 8080).verdict, 'deny');
  });
});

describe('IP literal destinations', () => {
  it('are judged by their class, even under default allow', () => {
    const c = compileNative('default: allow\n');
    for (const [host, cls] of [
      ['127.0.0.1', 'loopback'],
      ['0x7f.1', 'loopback'],
      ['2130706433', 'loopback'],
      ['[::1]', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['169.254.169.254', 'metadata'],
      ['64:ff9b::a9fe:a9fe', 'metadata'],
      ['10.0.0.1', 'private'],
      ['0.0.0.0', 'unspecified'],
    ] as const) {
      const d = ask(c, host);
      assert.equal(d.allowed, false, host);
      assert.equal(d.reason, `ip_class:${cls}`, host);
    }
    assert.equal(ask(c, '8.8.8.8').reason, 'default_allow');
  });

  it('a name rule that allows everything does not open IP classes', () => {
    const c = compileNative(`rules:
  - allow: [{ any: true }]
`);
    assert.equal(ask(c, '127.0.0.1').reason, 'ip_class:loopback');
    assert.equal(ask(c, '8.8.8.8').reason, 'allowed_by_rule');
  });

  it('an explicit IP or CIDR allow beats the class', () => {
    const c = compileNative(`rules:
  - allow: [127.0.0.0/8, '::1', 169.254.169.254]
`);
    const d = ask(c, '127.0.0.2');
    assert.equal(d.allowed, true);
    assert.equal(d.reason, 'allowed_by_rule');
    assert.equal(ask(c, '[::1]').allowed, true);
    assert.equal(ask(c, '::ffff:127.0.0.9').allowed, true);
    assert.equal(ask(c, '169.254.169.254').allowed, true);
  });

  it('privateRanges: allow opens the private class only', () => {
    const c = compileNative('default: allow\nprivateRanges: allow\n');
    assert.equal(ask(c, '10.0.0.1').allowed, true);
    assert.equal(ask(c, '192.168.1.1').allowed, true);
    assert.equal(ask(c, 'fd00::1').allowed, true);
    assert.equal(ask(c, '127.0.0.1').reason, 'ip_class:loopback');
    assert.equal(ask(c, '169.254.169.254').reason, 'ip_class:metadata');
  });

  it('a wildcard name rule never matches an IP literal', () => {
    const c = compileNative(`rules:
  - allow: ['*', '**.0.1']
`);
    assert.equal(ask(c, '8.8.8.8').reason, 'default_deny');
  });
});

describe('decideAddress: the second phase, after DNS', () => {
  const c = compileNative(`rules:
  - allow: [app.example, internal.example]
  - allow: [10.20.0.0/16]
  - deny: [203.0.113.0/24]
`);

  it('an allowed name that resolves to loopback is denied (DNS rebinding)', () => {
    const first = ask(c, 'app.example');
    assert.equal(first.allowed, true);
    const d = decideAddress(c, first, '127.0.0.1');
    assert.equal(d.allowed, false);
    assert.equal(d.reason, 'ip_class:loopback');
    assert.equal(d.destination.ip, '127.0.0.1');
    assert.equal(d.rule?.index, 0, 'still names the rule that allowed the name');
    assert.match(explain(d), /loopback address.*although rule 1 .*allows the name/);
  });

  it('carried IPv4 addresses count: ::ffff:169.254.169.254 is metadata', () => {
    const d = decideAddress(c, ask(c, 'app.example'), '::ffff:169.254.169.254');
    assert.equal(d.reason, 'ip_class:metadata');
  });

  it('an IP deny rule after the host allow still denies the address', () => {
    const d = decideAddress(c, ask(c, 'app.example'), '203.0.113.7');
    assert.equal(d.allowed, false);
    assert.equal(d.reason, 'denied_by_rule');
    assert.equal(d.rule?.index, 2);
  });

  it('an explicit CIDR allow beats the private class', () => {
    const d = decideAddress(c, ask(c, 'internal.example'), '10.20.1.1');
    assert.equal(d.allowed, true);
    assert.equal(d.reason, 'allowed_by_rule');
    assert.equal(d.rule?.index, 0, 'the name rule stays the reason');
    assert.equal(
      decideAddress(c, ask(c, 'internal.example'), '10.21.1.1').reason,
      'ip_class:private',
    );
  });

  it('a public address keeps the decision and records the IP', () => {
    const first = ask(c, 'app.example');
    const d = decideAddress(c, first, '93.184.216.34');
    assert.deepEqual(d, { ...first, destination: { ...first.destination, ip: '93.184.216.34' } });
  });

  it('a denied name stays denied', () => {
    const first = ask(c, 'nope.example');
    const d = decideAddress(c, first, '93.184.216.34');
    assert.equal(d.reason, 'default_deny');
    assert.equal(d.destination.ip, '93.184.216.34');
  });

  it("the proxy's own addresses are never a destination", () => {
    const self = new Set(['192.0.2.1']);
    const d = decideAddress(c, ask(c, 'app.example'), '192.0.2.1', { selfAddresses: self });
    assert.equal(d.reason, 'ip_class:proxy_self');
    const mapped = decideAddress(c, ask(c, 'app.example'), '::ffff:192.0.2.1', {
      selfAddresses: self,
    });
    assert.equal(mapped.reason, 'ip_class:proxy_self');
  });

  it('an address that does not parse is denied', () => {
    const d = decideAddress(c, ask(c, 'app.example'), 'not-an-ip');
    assert.equal(d.allowed, false);
    assert.equal(d.reason, 'invalid_destination');
  });

  it('monitor mode reports the class but lets it through', () => {
    const m = compileNative(
      `rules:
  - allow: [app.example]
`,
      { mode: 'monitor' },
    );
    const d = decideAddress(m, ask(m, 'app.example'), '127.0.0.1');
    assert.equal(d.allowed, true);
    assert.equal(d.wouldDeny, true);
    assert.equal(d.reason, 'ip_class:loopback');
  });

  it('privateRanges: allow lets allowed names resolve to private ranges', () => {
    const p = compileNative(`privateRanges: allow
rules:
  - allow: [app.example]
`);
    assert.equal(decideAddress(p, ask(p, 'app.example'), '192.168.0.10').allowed, true);
    assert.equal(decideAddress(p, ask(p, 'app.example'), '127.0.0.1').allowed, false);
  });
});

describe('explain()', () => {
  const c = compileNative(`default: deny
rules:
  - name: no paste
    deny: [pastebin.com]
  - allow: ['**.example.com:443']
resources:
  - { kind: repository, host: git.corp.example }
`);
  const CASES: Array<[string, number, string]> = [
    [
      'pastebin.com',
      443,
      'Denied pastebin.com:443: rule 1 "no paste" (deny pastebin.com at p.yaml:7:12) of policy "test" matched.',
    ],
    [
      'a.example.com',
      443,
      'Allowed a.example.com:443: rule 2 (allow **.example.com:443 at p.yaml:8:13) of policy "test" matched.',
    ],
    [
      'other.test',
      443,
      'Denied other.test:443: no rule of policy "test" matched, and its default is deny.',
    ],
    [
      'git.corp.example',
      22,
      'Allowed git.corp.example:22: it is attached resource 1 (git.corp.example at p.yaml:10:5) of the workspace, always reachable.',
    ],
    [
      '127.1',
      80,
      'Denied 127.0.0.1:80: no rule of policy "test" matched, and its default is deny.',
    ],
    ['::1', 80, 'Denied [::1]:80: no rule of policy "test" matched, and its default is deny.'],
  ];
  for (const [host, port, sentence] of CASES)
    it(`${host}:${port}`, () => {
      assert.equal(explain(ask(c, host, port)), sentence);
    });

  it('monitor mode and IP classes', () => {
    const m = compileNative('default: allow\n', { mode: 'monitor' });
    assert.equal(
      explain(ask(m, '127.0.0.1', 8080, 'udp')),
      'Denied 127.0.0.1:8080/udp (monitor mode: let through, but restrict would deny it): it is a loopback address, which is denied unless the policy allows that address explicitly.',
    );
  });

  it('invalid destinations say what is wrong', () => {
    assert.equal(
      explain(ask(c, 'a b', 443)),
      'Denied a b:443: the destination is not valid: the host name contains a space, which is never valid in a host name.',
    );
  });
});

describe('the Decision shape', () => {
  it('has exactly the documented keys', () => {
    const c = compileNative(`rules:
  - allow: [example.com]
`);
    const d: Decision = ask(c, 'EXAMPLE.com.');
    assert.deepEqual(d, {
      allowed: true,
      verdict: 'allow',
      mode: 'restrict',
      enforced: true,
      wouldDeny: false,
      reason: 'allowed_by_rule',
      rule: { index: 0, kind: 'allow', source: 'p.yaml:5:13', pattern: 'example.com' },
      policy: { name: 'test', version: 'v1' },
      destination: { host: 'example.com', port: 443, transport: 'tcp' },
    });
  });

  it('IP destinations carry the canonical address', () => {
    const c = compileNative('default: allow\n');
    const d = ask(c, '0x08.8.8.8', 53, 'udp');
    assert.deepEqual(Object.keys(d).sort(), [
      'allowed',
      'destination',
      'enforced',
      'mode',
      'policy',
      'reason',
      'rule',
      'verdict',
      'wouldDeny',
    ]);
    assert.deepEqual(d.destination, { host: '8.8.8.8', port: 53, transport: 'udp', ip: '8.8.8.8' });
  });

  it('the policy version defaults to a stable hash', () => {
    const a = compilePolicy(policyWith([]));
    const b = compilePolicy(policyWith([]));
    assert.match(a.version, /^[0-9a-f]{8}$/);
    assert.equal(a.version, b.version);
    assert.notEqual(compilePolicy(policyWith([], { default: 'allow' })).version, a.version);
  });
});
