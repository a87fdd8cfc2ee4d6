/** Host normalisation (DESIGN.md 3.1): what each spelling of a destination becomes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseHost, parseIp, classifyIp } from '../../src/policy/index.js';

function normal(input: string): string {
  const r = normaliseHost(input);
  assert.ok(r.ok, `${JSON.stringify(input)} should normalise: ${r.ok ? '' : r.error}`);
  return r.host.name;
}

function rejected(input: string): string {
  const r = normaliseHost(input);
  assert.equal(r.ok, false, `${JSON.stringify(input)} should be rejected`);
  return r.ok ? '' : r.error;
}

describe('host names', () => {
  const CASES: Array<[string, string]> = [
    ['example.com', 'example.com'],
    ['EXAMPLE.Com', 'example.com'],
    ['example.com.', 'example.com'],
    ['  example.com\t', 'example.com'],
    ['localhost', 'localhost'],
    ['ex_ample.com', 'ex_ample.com'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['BÜCHER.DE', 'xn--bcher-kva.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['bücher.de.', 'xn--bcher-kva.de'],
    ['ß.de', 'xn--zca.de'],
    ['café.com', 'xn--caf-dma.com'],
    // Full-width letters, digits and the ideographic full stop fold to ASCII (UTS 46).
    ['ｅｘａｍｐｌｅ。ｃｏｍ', 'example.com'],
    ['ＡＢＣ.com', 'abc.com'],
    ['a。b', 'a.b'],
    ['ｅｘａｍｐｌｅ．ｃｏｍ', 'example.com'],
    // Zero-width space is ignored by IDNA mapping.
    ['\u200bexample.com', 'example.com'],
    ['1.a', '1.a'],
    ['a'.repeat(63) + '.com', 'a'.repeat(63) + '.com'],
  ];
  for (const [input, name] of CASES)
    it(`${JSON.stringify(input)} → ${name}`, () => {
      assert.equal(normal(input), name);
      const r = normaliseHost(input);
      assert.ok(r.ok && r.host.kind === 'name');
    });

  it('only one trailing dot is stripped', () => {
    assert.match(rejected('example.com..'), /empty label/);
  });

  it('a name of 253 characters is accepted, 254 is rejected', () => {
    const label = 'a'.repeat(61);
    const n253 = [label, label, label, label].join('.') + '.abcde'; // 4*61+3 + 6 = 253
    assert.equal(n253.length, 253);
    assert.equal(normal(n253), n253);
    assert.equal(normal(n253 + '.'), n253, 'a trailing dot does not count');
    const n254 = n253 + 'f';
    assert.match(rejected(n254), /254 characters long; the limit is 253/);
  });

  it('a label of 63 characters is accepted, 64 is rejected', () => {
    assert.match(rejected('a'.repeat(64) + '.com'), /64 characters long; the limit is 63/);
  });

  const REJECT: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   ', /empty/],
    ['.', /empty/],
    ['a..b', /empty label/],
    ['.a.com', /empty label/],
    ['a\u0000b.com', /NUL/],
    ['a.com\u0000', /NUL/],
    ['a\rb.com', /CR/],
    ['a.com\r\nHost: evil', /CR/],
    ['a\nb.com', /LF/],
    ['a b.com', /a space/],
    ['a\tb.com', /a tab/],
    ['a%2eb.com', /"%"/],
    ['a.com/path', /"\/"/],
    ['user@a.com', /"@"/],
    ['a\\b.com', /"\\"/],
    ['a\u0001b.com', /control character U\+0001/],
    ['a\u007fb.com', /control character U\+007F/],
    ['-a.com', /not a valid host name label/],
    ['a-.com', /not a valid host name label/],
    ['a!.com', /not a valid host name label/],
    ['a?b.com', /not a valid host name label/],
    ['a#b.com', /not a valid host name label/],
    // Non-ASCII names go through the URL parser: a query or fragment must not be cut off.
    ['evil.com#.bücher.de', /not a valid internationalised domain name/],
    ['evil.com?.bücher.de', /not a valid internationalised domain name/],
    ['bü/ch.de', /"\/"/],
    ['bü ch.de', /a space/],
    ['bü%41.de', /"%"/],
    ['bü:80', /not a valid IPv6 address/],
    ['ｅｘａｍｐｌｅ／ｃｏｍ', /not a valid internationalised domain name/],
    ['x'.repeat(2000), /the limit is 253/],
  ];
  for (const [input, error] of REJECT)
    it(`rejects ${JSON.stringify(input.length > 30 ? input.slice(0, 30) + '…' : input)}`, () => {
      assert.match(rejected(input), error);
    });
});

describe('IPv4 literals in every spelling', () => {
  const CASES: Array<[string, string]> = [
    ['127.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['0X7F.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['00000127.0.0.1', '87.0.0.1'], // leading zeros mean octal: 0127 = 87
    ['127.0.0.1.', '127.0.0.1'],
    ['１２７．０．０．１', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0x', '0.0.0.0'], // WHATWG URL: "0x" alone is zero
    ['1.2.3.0x', '1.2.3.0'],
    ['4294967295', '255.255.255.255'],
    ['1.2.3', '1.2.0.3'],
    ['10.1', '10.0.0.1'],
    ['169.254.43518', '169.254.169.254'],
    ['0xa9fea9fe', '169.254.169.254'],
  ];
  for (const [input, quad] of CASES)
    it(`${input} → ${quad}`, () => {
      assert.equal(normal(input), quad);
      const r = normaliseHost(input);
      assert.ok(r.ok && r.host.kind === 'ip' && r.host.ip.kind === 'ipv4');
    });

  const REJECT: Array<[string, RegExp]> = [
    ['1.2.3.256', /out of range/],
    ['256.1.1.1', /over 255/],
    ['4294967296', /out of range/],
    ['1.2.3.4.5', /more than four parts/],
    ['08.1.1.1', /bad part "08"/], // 08 is neither octal nor (for inet_aton) decimal
    ['1.2.3.09', /bad part "09"/],
    ['0x1g.1.1.1', /bad part/],
    ['a.1', /bad part "a"/],
    ['1..1', /bad part ""/],
    ['0x100.1', /over 255/],
  ];
  for (const [input, error] of REJECT)
    it(`rejects ${input}`, () => {
      const e = normaliseHost(input);
      if (e.ok) assert.fail(`${input} normalised to ${e.host.name}`);
      assert.match(e.error, error);
    });

  it('a name whose last label is not numeric stays a name', () => {
    const r = normaliseHost('1.2.3.4.example');
    assert.ok(r.ok && r.host.kind === 'name');
  });
});

describe('IPv6 literals', () => {
  const CASES: Array<[string, string]> = [
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fe80::', 'fe80::'],
    ['::', '::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['::FFFF:7f00:1', '::ffff:127.0.0.1'],
    ['::127.0.0.1', '::7f00:1'],
    ['64:ff9b::127.0.0.1', '64:ff9b::7f00:1'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ];
  for (const [input, text] of CASES)
    it(`${input} → ${text}`, () => {
      assert.equal(normal(input), text);
    });

  const REJECT: Array<[string, RegExp]> = [
    ['fe80::1%eth0', /zone id/],
    ['[fe80::1%25eth0]', /zone id/],
    ['1:2:3:4:5:6:7:8:9', /eight groups/],
    ['1::2::3', /more than once/],
    ['12345::1', /invalid group/],
    ['::ffff:1.2.3.256', /embedded IPv4/],
    ['::ffff:127.1', /embedded IPv4/],
    ['[::1', /does not close/],
    ['g::1', /characters that cannot appear/],
  ];
  for (const [input, error] of REJECT)
    it(`rejects ${input}`, () => {
      assert.match(rejected(input), error);
    });
});

describe('IPv6 forms that carry an IPv4 address are judged by it', () => {
  const CASES: Array<[string, string]> = [
    ['::ffff:127.0.0.1', '127.0.0.1'], // IPv4-mapped
    ['::ffff:0:127.0.0.1', '127.0.0.1'], // SIIT translated
    ['::127.0.0.1', '127.0.0.1'], // IPv4-compatible (deprecated)
    ['64:ff9b::7f00:1', '127.0.0.1'], // NAT64 well-known prefix
    ['64:ff9b::169.254.169.254', '169.254.169.254'],
    ['2002:7f00:1::', '127.0.0.1'], // 6to4
    ['2002:a9fe:a9fe:1234::1', '169.254.169.254'],
  ];
  for (const [input, v4] of CASES)
    it(`${input} carries ${v4}`, () => {
      const r = parseIp(input);
      assert.ok(r.ok && r.value.kind === 'ipv6');
      assert.equal(r.value.embeddedV4?.text, v4);
      const plain = parseIp(v4);
      assert.ok(plain.ok);
      assert.equal(classifyIp(r.value), classifyIp(plain.value));
    });

  it('::1 and :: are IPv6 themselves, not IPv4-compatible', () => {
    for (const text of ['::1', '::']) {
      const r = parseIp(text);
      assert.ok(r.ok && r.value.kind === 'ipv6');
      assert.equal(r.value.embeddedV4, undefined);
    }
  });

  it('classes of carried addresses', () => {
    const cls = (t: string) => {
      const r = parseIp(t);
      assert.ok(r.ok);
      return classifyIp(r.value);
    };
    assert.equal(cls('::ffff:10.1.2.3'), 'private');
    assert.equal(cls('64:ff9b::a9fe:a9fe'), 'metadata');
    assert.equal(cls('2002:c0a8:101::'), 'private');
    assert.equal(cls('::ffff:8.8.8.8'), null);
    assert.equal(cls('2001:db8::1'), null);
    assert.equal(cls('fd00:ec2::254'), 'metadata');
    assert.equal(cls('fc00::1'), 'private');
    assert.equal(cls('fe80::1'), 'link_local');
    assert.equal(cls('ff02::1'), 'multicast');
    assert.equal(cls('::'), 'unspecified');
    assert.equal(cls('::1'), 'loopback');
  });
});

describe('IP classes (DESIGN.md 3.4)', () => {
  const CASES: Array<[string, string | null]> = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['169.254.1.1', 'link_local'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', null],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.128.0.1', null],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['8.8.8.8', null],
  ];
  for (const [input, cls] of CASES)
    it(`${input} is ${cls ?? 'public'}`, () => {
      const r = parseIp(input);
      assert.ok(r.ok);
      assert.equal(classifyIp(r.value), cls);
    });
});
