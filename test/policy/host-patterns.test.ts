/** The host pattern language of DESIGN.md 3.2, row by row: what is accepted, what it matches. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHostPattern } from '../../src/policy/patterns/host-pattern.js';
import { parseCidr } from '../../src/policy/patterns/cidr.js';
import { parsePortRange } from '../../src/policy/patterns/ports.js';
import { parseSelectorString } from '../../src/policy/patterns/selector.js';
import { selectorMatches } from './helpers.js';

/** DESIGN.md 3.2: pattern → what it matches → what it does not. */
const TABLE: Array<{ pattern: string; includeSubdomains?: true; yes: string[]; no: string[] }> = [
  {
    pattern: 'example.com',
    yes: ['example.com', 'EXAMPLE.com', 'example.com.'],
    no: ['api.example.com', 'notexample.com', 'example.com.evil.com'],
  },
  {
    pattern: '*.example.com',
    yes: ['api.example.com', 'API.Example.COM'],
    no: ['example.com', 'a.b.example.com', 'notexample.com'],
  },
  {
    pattern: '**.example.com',
    yes: ['api.example.com', 'a.b.example.com', 'x.y.z.example.com'],
    no: ['example.com', 'example.com.evil.com', 'notexample.com'],
  },
  {
    pattern: 'api-*.example.com',
    yes: ['api-v1.example.com', 'api-1.example.com', 'api-eu-west.example.com'],
    no: ['api.example.com', 'api-v1.eu.example.com', 'example.com', 'xapi-v1.example.com'],
  },
  {
    pattern: 'example.com',
    includeSubdomains: true,
    yes: ['example.com', 'api.example.com', 'a.b.example.com'],
    no: ['notexample.com', 'example.com.evil.com'],
  },
  {
    pattern: '*',
    yes: ['example.com', 'a.b.c.d', 'localhost'],
    no: ['127.0.0.1', '10.0.0.1', '::1', '2130706433'],
  },
  {
    pattern: '**',
    yes: ['example.com', 'a.b.c.d', 'localhost'],
    no: ['127.0.0.1', '[::1]', '0x7f.1'],
  },
];

describe('host patterns: the DESIGN.md 3.2 table', () => {
  for (const row of TABLE) {
    const label = row.includeSubdomains
      ? `{domain: ${row.pattern}, includeSubdomains}`
      : row.pattern;
    for (const host of row.yes)
      it(`${label} matches ${host}`, () => {
        const sel = {
          host: row.pattern,
          ...(row.includeSubdomains ? { includeSubdomains: true } : {}),
        };
        assert.equal(selectorMatches(sel, host), true);
      });
    for (const host of row.no)
      it(`${label} does not match ${host}`, () => {
        const sel = {
          host: row.pattern,
          ...(row.includeSubdomains ? { includeSubdomains: true } : {}),
        };
        assert.equal(selectorMatches(sel, host), false);
      });
  }

  it('a wildcard never matches the apex', () => {
    for (const p of ['*.example.com', '**.example.com', 'api-*.example.com'])
      assert.equal(selectorMatches({ host: p }, 'example.com'), false, p);
  });

  it('a wildcard never matches an IP literal, in any spelling', () => {
    for (const p of ['*', '**', '*.0.1', '**.1'])
      for (const ip of ['127.0.0.1', '0x7f.1', '2130706433', '::ffff:127.0.0.1']) {
        const parsed = parseHostPattern(p);
        if (!parsed.ok) continue;
        assert.equal(selectorMatches({ host: parsed.value.text }, ip), false, `${p} vs ${ip}`);
      }
  });

  it('matching is case-insensitive on both sides', () => {
    const p = parseHostPattern('**.Example.COM');
    assert.ok(p.ok);
    assert.equal(p.value.text, '**.example.com');
    assert.equal(selectorMatches({ host: p.value.text }, 'WWW.EXAMPLE.com'), true);
  });

  it('several globs in one label', () => {
    assert.equal(selectorMatches({ host: 'a*b*c.example.com' }, 'a-x-b-y-c.example.com'), true);
    assert.equal(selectorMatches({ host: 'a*b*c.example.com' }, 'abc.example.com'), true);
    assert.equal(selectorMatches({ host: 'a*b*c.example.com' }, 'acb.example.com'), false);
  });

  it('"*" inside "**.*.x" needs at least two labels', () => {
    assert.equal(selectorMatches({ host: '**.*.example.com' }, 'a.example.com'), false);
    assert.equal(selectorMatches({ host: '**.*.example.com' }, 'a.b.example.com'), true);
  });
});

describe('host patterns: accepted spellings and their canonical form', () => {
  const ACCEPT: Array<[string, string, 'exact' | 'wildcard' | 'any']> = [
    ['example.com', 'example.com', 'exact'],
    ['Example.COM.', 'example.com', 'exact'],
    ['  example.com  ', 'example.com', 'exact'],
    ['*.example.com', '*.example.com', 'wildcard'],
    ['**.example.com', '**.example.com', 'wildcard'],
    ['*.example.com.', '*.example.com', 'wildcard'],
    ['api-*.example.com', 'api-*.example.com', 'wildcard'],
    ['*-staging.example.com', '*-staging.example.com', 'wildcard'],
    ['*', '*', 'any'],
    ['**', '**', 'any'],
    ['*.', '*', 'any'],
    ['**.', '**', 'any'],
    ['bücher.de', 'xn--bcher-kva.de', 'exact'],
    ['*.bücher.de', '*.xn--bcher-kva.de', 'wildcard'],
    ['**.BÜCHER.de', '**.xn--bcher-kva.de', 'wildcard'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de', 'exact'],
    ['ex_ample.com', 'ex_ample.com', 'exact'],
  ];
  for (const [input, text, kind] of ACCEPT)
    it(`${JSON.stringify(input)} → ${text}`, () => {
      const p = parseHostPattern(input);
      assert.ok(p.ok, p.ok ? '' : p.error);
      assert.equal(p.value.text, text);
      assert.equal(p.value.kind, kind);
    });

  it('an IDN pattern matches the unicode and the punycode spelling of a name', () => {
    assert.equal(selectorMatches({ host: 'xn--bcher-kva.de' }, 'bücher.de'), true);
    assert.equal(selectorMatches({ host: '*.xn--bcher-kva.de' }, 'www.BÜCHER.de'), true);
  });
});

describe('host patterns: warnings', () => {
  const WARN: Array<[string, RegExp]> = [
    ['*', /matches every host name/],
    ['**', /matches every host name/],
    ['*.com', /public suffix "com"/],
    ['**.com', /public suffix "com"/],
    ['*.co.uk', /public suffix "co.uk"/],
    ['*.github.io', /public suffix "github.io"/],
  ];
  for (const [input, warning] of WARN)
    it(`${input} is accepted with a warning`, () => {
      const p = parseHostPattern(input);
      assert.ok(p.ok);
      assert.match(p.warning ?? '', warning);
    });

  it('an ordinary wildcard has no warning', () => {
    const p = parseHostPattern('*.example.com');
    assert.ok(p.ok);
    assert.equal(p.warning, undefined);
  });
});

describe('host patterns: rejected, with what to write instead', () => {
  const REJECT: Array<[string, RegExp, RegExp | undefined]> = [
    ['', /empty/, undefined],
    ['a.**.com', /only valid as the whole leftmost label/, /did you mean "\*\*\.com"\?/],
    [
      'www.**.example.com',
      /only valid as the whole leftmost label/,
      /did you mean "\*\*\.example\.com"\?/,
    ],
    ['a**.example.com', /not a valid wildcard label/, /"\*\*" must be a whole label/],
    ['https://example.com/path', /not a host pattern/, /write the host name alone: "example\.com"/],
    ['example.com/path', /not a host pattern/, /write the host name alone: "example\.com"/],
    ['.example.com', /starts with a dot/, /"\*\*\.example\.com".*includeSubdomains/],
    [
      '*example.com',
      /matches names anyone can register \(such as "evilexample\.com"\)/,
      /did you mean "\*\.example\.com"\?/,
    ],
    ['api-*.com', /right above the public suffix "com"/, /registered name in full/],
    ['a.b*.co.uk', /right above the public suffix "co\.uk"/, undefined],
    ['example.com:443', /not a host pattern/, /ports:/],
    ['user@example.com', /not a host pattern/, undefined],
    ['exa mple.com', /not a host pattern/, undefined],
    ['127.0.0.1', /is an IP address/, /IP entry/],
    ['0x7f.1', /is an IP address/, /IP entry/],
    ['a..b.com', /empty label/, undefined],
    ['-a.example.com', /not a valid host name label/, undefined],
    ['a'.repeat(64) + '.com', /64 characters long; the limit is 63/, undefined],
    [`${'a.'.repeat(127)}com`, /the limit is 253/, undefined],
    ['*.ex!ample.com', /not a valid host name label/, undefined],
    ['*.exa%mple.com', /not a host pattern/, undefined],
  ];
  for (const [input, error, hint] of REJECT)
    it(`rejects ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)}`, () => {
      const p = parseHostPattern(input);
      assert.equal(p.ok, false);
      if (p.ok) return;
      assert.match(p.error, error);
      if (hint) assert.match(p.hint ?? '', hint);
    });
});

describe('IP and CIDR entries', () => {
  const ACCEPT: Array<[string, string]> = [
    ['192.168.1.50', '192.168.1.50'],
    ['10.0.0.0/24', '10.0.0.0/24'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.0.0.0/08', '10.0.0.0/8'],
    ['10.0.0.5/32', '10.0.0.5'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['127.1', '127.0.0.1'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:DB8:0:0::/32', '2001:db8::/32'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:db8::1/128', '2001:db8::1'],
    ['::/0', '::/0'],
    ['fe80::/10', 'fe80::/10'],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0/104'],
  ];
  for (const [input, text] of ACCEPT)
    it(`${input} → ${text}`, () => {
      const c = parseCidr(input);
      assert.ok(c.ok, c.ok ? '' : c.error);
      assert.equal(c.value.text, text);
    });

  const REJECT: Array<[string, RegExp, RegExp | undefined]> = [
    ['10.0.0.1/24', /host bits set/, /^did you mean 10\.0\.0\.0\/24\?$/],
    ['192.168.1.1/16', /host bits set/, /^did you mean 192\.168\.0\.0\/16\?$/],
    ['2001:db8::1/32', /host bits set/, /^did you mean 2001:db8::\/32\?$/],
    ['fe80::1/10', /host bits set/, /^did you mean fe80::\/10\?$/],
    ['10.0.0.0/33', /invalid prefix length/, /0 to 32/],
    ['2001:db8::/129', /invalid prefix length/, /0 to 128/],
    ['10.0.0.0/', /invalid prefix length/, undefined],
    ['10.0.0.0/-1', /invalid prefix length/, undefined],
    ['1.2.3.256', /not a valid IPv4 address/, undefined],
    ['1:2:3:4:5:6:7:8:9', /not a valid IPv6 address/, undefined],
    ['2001:db8:::1', /not a valid IPv6 address/, undefined],
  ];
  for (const [input, error, hint] of REJECT)
    it(`rejects ${input}`, () => {
      const c = parseCidr(input);
      assert.equal(c.ok, false);
      if (c.ok) return;
      assert.match(c.error, error);
      if (hint) assert.match(c.hint ?? '', hint);
    });

  it('a CIDR entry matches exactly its range', () => {
    assert.equal(selectorMatches({ cidr: '10.0.0.0/24' }, '10.0.0.255'), true);
    assert.equal(selectorMatches({ cidr: '10.0.0.0/24' }, '10.0.1.0'), false);
    assert.equal(selectorMatches({ cidr: '2001:db8::/32' }, '2001:db8:ffff::1'), true);
    assert.equal(selectorMatches({ cidr: '2001:db8::/32' }, '2001:db9::1'), false);
  });

  it('an IPv4 entry also matches IPv6 forms that carry that address', () => {
    for (const ip of ['::ffff:10.0.0.7', '64:ff9b::a00:7', '2002:a00:7::', '::10.0.0.7'])
      assert.equal(selectorMatches({ cidr: '10.0.0.0/24' }, ip), true, ip);
  });
});

describe('ports', () => {
  const ACCEPT: Array<[string | number, number, number]> = [
    [443, 443, 443],
    ['443', 443, 443],
    ['8000-8999', 8000, 8999],
    ['8000 - 8999', 8000, 8999],
    [1, 1, 1],
    [65535, 65535, 65535],
    ['1-65535', 1, 65535],
  ];
  for (const [input, from, to] of ACCEPT)
    it(`${JSON.stringify(input)} → ${from}-${to}`, () => {
      assert.deepEqual(parsePortRange(input), { ok: true, value: { from, to } });
    });

  const REJECT: Array<[string | number, RegExp, RegExp]> = [
    [0, /out of range/, /1 to 65535/],
    [65536, /out of range/, /1 to 65535/],
    [4.5, /out of range/, /whole numbers/],
    ['0', /out of range/, /1 to 65535/],
    ['70000', /out of range/, /1 to 65535/],
    ['9000-8000', /runs backwards/, /did you mean "8000-9000"\?/],
    ['http', /not a port or a port range/, /443/],
    ['', /not a port or a port range/, /443/],
    ['-5', /not a port or a port range/, /443/],
  ];
  for (const [input, error, hint] of REJECT)
    it(`rejects ${JSON.stringify(input)}`, () => {
      const p = parsePortRange(input);
      assert.equal(p.ok, false);
      if (p.ok) return;
      assert.match(p.error, error);
      assert.match(p.hint ?? '', hint);
    });

  it('an entry with ports matches only those ports; none means every port', () => {
    const ranges = [{ from: 8000, to: 8999 }];
    assert.equal(selectorMatches({ host: 'a.com', ports: ranges }, 'a.com', 8000), true);
    assert.equal(selectorMatches({ host: 'a.com', ports: ranges }, 'a.com', 8999), true);
    assert.equal(selectorMatches({ host: 'a.com', ports: ranges }, 'a.com', 9000), false);
    assert.equal(selectorMatches({ host: 'a.com', ports: ranges }, 'a.com', 7999), false);
    assert.equal(selectorMatches({ host: 'a.com' }, 'a.com', 1), true);
    assert.equal(selectorMatches({ host: 'a.com' }, 'a.com', 65535), true);
  });
});

describe('destination strings', () => {
  const ACCEPT: Array<[string, Record<string, unknown>]> = [
    ['example.com', { host: 'example.com' }],
    ['Example.com:443', { host: 'example.com', ports: [{ from: 443, to: 443 }] }],
    ['**.example.com:443', { host: '**.example.com', ports: [{ from: 443, to: 443 }] }],
    ['api.example.com:8000-8999', { host: 'api.example.com', ports: [{ from: 8000, to: 8999 }] }],
    ['10.0.0.0/8', { cidr: '10.0.0.0/8' }],
    ['10.0.0.0/8:443', { cidr: '10.0.0.0/8', ports: [{ from: 443, to: 443 }] }],
    ['127.0.0.1:22', { cidr: '127.0.0.1', ports: [{ from: 22, to: 22 }] }],
    ['2001:db8::1', { cidr: '2001:db8::1' }],
    ['[2001:db8::1]:8443', { cidr: '2001:db8::1', ports: [{ from: 8443, to: 8443 }] }],
    ['[2001:db8::]', { cidr: '2001:db8::' }],
    ['ecosystem:python', { ecosystem: 'python' }],
    ['*:443', { host: '*', ports: [{ from: 443, to: 443 }] }],
  ];
  for (const [input, value] of ACCEPT)
    it(`${input}`, () => {
      const s = parseSelectorString(input);
      assert.ok(s.ok, s.ok ? '' : s.error);
      assert.deepEqual(s.value, value);
    });

  const REJECT: Array<[string, RegExp, RegExp | undefined]> = [
    ['https://example.com/x', /is a URL/, /write "example\.com"/],
    ['ecosystem:', /names no ecosystem/, /ecosystem:python/],
    ['example.com:', /not a port/, undefined],
    ['example.com:0', /out of range/, undefined],
    ['example.com:65536', /out of range/, undefined],
    ['example.com:9000-8000', /runs backwards/, /8000-9000/],
    ['[::1', /not a valid destination/, /\[v6\]:port/],
    ['[::1]x', /not a valid destination/, undefined],
    ['10.0.0.1/24', /host bits set/, /10\.0\.0\.0\/24/],
  ];
  for (const [input, error, hint] of REJECT)
    it(`rejects ${input}`, () => {
      const s = parseSelectorString(input);
      assert.equal(s.ok, false);
      if (s.ok) return;
      assert.match(s.error, error);
      if (hint) assert.match(s.hint ?? '', hint);
    });
});
