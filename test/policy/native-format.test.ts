/** The native format: every field, every error with its exact FILE:LINE:COL, and round trips. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PolicyError } from '../../src/policy/index.js';
import { emitNative } from '../../src/policy/formats/index.js';
import { parseNative } from '../../src/policy/formats/native/parse.js';
import { assertImportEquivalent } from '../helpers/round-trip.js';
import { nativePolicy } from './helpers.js';

const FULL = `# every field of the native format
version: 1
name: everything
description: A policy that uses every field.
mode: inspect
default: deny
privateRanges: allow
logLevel: warn
appliesTo: { metadata: { team: build } }
rules:
  - name: never
    deny:
      - pastebin.com
      - { host: '**.paste.example', transport: any }
  - name: sources
    allow:
      - { host: github.com, includeSubdomains: true }
      - '*.githubusercontent.com:443'
      - api-*.example.com
      - ecosystem:python
      - { ecosystem: node, ports: 443 }
      - { cidr: 10.20.0.0/16, ports: [443, '8000-8999'] }
      - { ip: '2001:db8::1' }
      - '[2001:db8::2]:8443'
    ports: [443, 80]
  - allow: [{ any: true, ports: 53, transport: udp }]
  - decide: ['**.ai.example']
    decider:
      url: https://decider.example/hook
      timeoutMs: 2000
      cache: false
      contextMessages: 5
      contextMetadata: [user, repo]
resources:
  - { kind: repository, name: acme/app, host: git.acme.example, ports: [22, 443] }
  - { kind: ssh, host: 10.1.2.3, ports: 22 }
  - { kind: http, host: wiki.acme.example }
decider: { module: ./decider.mjs }
redact: ['Bearer [A-Za-z0-9._-]+', 'password=[^&]*']
maxBodyCapture: 1024
ingress:
  default: deny
  allow:
    - { ports: 8080, transport: tcp }
    - { ports: '60000-61000', transport: udp }
viaUpstreamProxy:
  - '**.corp.example'
  - 172.16.0.0/12
`;

function errorOf(text: string, file = 'p.yaml'): string {
  try {
    parseNative({ text, file });
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected a PolicyError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the policy to be rejected');
}

const HEAD = 'version: 1\nname: p\nmode: restrict\n';

describe('native format: every field parses', () => {
  const { policy, warnings } = parseNative({ text: FULL, file: 'full.yaml' });

  it('top-level fields', () => {
    assert.equal(policy.version, 1);
    assert.equal(policy.name, 'everything');
    assert.equal(policy.description, 'A policy that uses every field.');
    assert.equal(policy.mode, 'inspect');
    assert.equal(policy.default, 'deny');
    assert.equal(policy.privateRanges, 'allow');
    assert.equal(policy.logLevel, 'warn');
    assert.deepEqual(policy.appliesTo, { metadata: { team: 'build' } });
    assert.deepEqual(policy.redact, ['Bearer [A-Za-z0-9._-]+', 'password=[^&]*']);
    assert.equal(policy.maxBodyCapture, 1024);
    assert.deepEqual(policy.decider, { module: './decider.mjs', timeoutMs: 5000, cache: true });
    assert.deepEqual(policy.origin, { file: 'full.yaml', format: 'native' });
  });

  it('rules, selectors, ports and transports', () => {
    assert.equal(policy.rules.length, 4);
    const [never, sources, udp, decide] = policy.rules;
    assert.equal(never!.kind, 'deny');
    assert.equal(never!.name, 'never');
    assert.deepEqual(never!.source, { file: 'full.yaml', line: 11, col: 5 });
    assert.equal(never!.selectors[1]!.transport, 'any');
    const strip = sources!.selectors.map(({ source: _s, ...rest }) => rest);
    const both = [
      { from: 443, to: 443 },
      { from: 80, to: 80 },
    ];
    assert.deepEqual(strip, [
      { host: 'github.com', includeSubdomains: true, ports: both },
      { host: '*.githubusercontent.com', ports: [{ from: 443, to: 443 }] },
      { host: 'api-*.example.com', ports: both },
      { ecosystem: 'python', ports: both },
      { ecosystem: 'node', ports: [{ from: 443, to: 443 }] },
      {
        cidr: '10.20.0.0/16',
        ports: [
          { from: 443, to: 443 },
          { from: 8000, to: 8999 },
        ],
      },
      { cidr: '2001:db8::1', ports: both },
      { cidr: '2001:db8::2', ports: [{ from: 8443, to: 8443 }] },
    ]);
    assert.deepEqual(sources!.selectors[1]!.source, { file: 'full.yaml', line: 18, col: 9 });
    assert.deepEqual(udp!.selectors[0]!.transport, 'udp');
    assert.equal(udp!.selectors[0]!.host, undefined);
    assert.equal(decide!.kind, 'decide');
    assert.deepEqual(decide!.decider, {
      url: 'https://decider.example/hook',
      timeoutMs: 2000,
      cache: false,
      contextMessages: 5,
      contextMetadata: ['user', 'repo'],
    });
  });

  it('resources, ingress, viaUpstreamProxy', () => {
    assert.deepEqual(
      policy.resources.map(({ source: _s, ...r }) => r),
      [
        {
          kind: 'repository',
          name: 'acme/app',
          host: 'git.acme.example',
          ports: [
            { from: 22, to: 22 },
            { from: 443, to: 443 },
          ],
        },
        { kind: 'ssh', host: '10.1.2.3', ports: [{ from: 22, to: 22 }] },
        { kind: 'http', host: 'wiki.acme.example' },
      ],
    );
    assert.deepEqual(
      policy.ingress?.allow.map(({ source: _s, ...r }) => r),
      [
        { ports: [{ from: 8080, to: 8080 }], transport: 'tcp' },
        { ports: [{ from: 60000, to: 61000 }], transport: 'udp' },
      ],
    );
    assert.equal(policy.ingress?.default, 'deny');
    assert.deepEqual(
      policy.viaUpstreamProxy.map((s) => s.host ?? s.cidr),
      ['**.corp.example', '172.16.0.0/12'],
    );
  });

  it('no warnings for a clean policy', () => {
    assert.deepEqual(warnings, []);
  });

  it('defaults when optional fields are absent', () => {
    const p = nativePolicy('');
    assert.equal(p.default, 'deny');
    assert.equal(p.privateRanges, 'deny');
    assert.equal(p.maxBodyCapture, 4096);
    assert.deepEqual(p.rules, []);
    assert.deepEqual(p.resources, []);
    assert.deepEqual(p.redact, []);
    assert.deepEqual(p.viaUpstreamProxy, []);
    assert.equal(p.ingress, undefined);
  });

  it('"80,443" in one string is two ports', () => {
    const p = nativePolicy("rules:\n  - allow: [a.com]\n    ports: '80,443'\n");
    assert.deepEqual(p.rules[0]!.selectors[0]!.ports, [
      { from: 80, to: 80 },
      { from: 443, to: 443 },
    ]);
  });

  it('warnings carry positions: public suffix wildcards, match-all, decider on allow', () => {
    const { warnings: w } = parseNative({
      text: `${HEAD}rules:\n  - allow: ['*.com', '*']\n  - allow: [a.com]\n    decider: { url: 'http://x.example' }\n`,
      file: 'p.yaml',
    });
    assert.deepEqual(
      w.map((d) => `${d.line}:${d.col} ${d.message}`),
      [
        '5:13 "*.com" matches names anyone can register under the public suffix "com"',
        '5:22 "*" matches every host name',
        '7:5 "decider" only matters on a decide rule; this is an allow rule',
      ],
    );
  });
});

describe('native format: errors point at FILE:LINE:COL', () => {
  const CASES: Array<[string, string, string]> = [
    [
      'unknown field with did-you-mean',
      `${HEAD}rulez: []\n`,
      'p.yaml:4:1: unknown field "rulez" — did you mean "rules"?',
    ],
    [
      'unknown field in a rule',
      `${HEAD}rules:\n  - allow: [a.com]\n    port: 443\n`,
      'p.yaml:6:5: unknown field "port" in "rules" — did you mean "ports"?',
    ],
    [
      'unknown field in a destination',
      `${HEAD}rules:\n  - allow:\n      - { hots: a.com }\n`,
      'p.yaml:6:11: unknown field "hots" in "allow" — did you mean "host"?',
    ],
    [
      'bad enum with did-you-mean',
      'version: 1\nname: p\nmode: restrcit\n',
      'p.yaml:3:7: "mode" must be one of "monitor", "restrict", "inspect", not "restrcit" — did you mean "restrict"?',
    ],
    [
      'bad transport',
      `${HEAD}rules:\n  - allow: [a.com]\n    transport: udpp\n`,
      'p.yaml:6:16: "transport" must be one of "tcp", "udp", "any", not "udpp" — did you mean "udp"?',
    ],
    [
      'bad resource kind',
      `${HEAD}resources:\n  - { kind: sh, host: a.com }\n`,
      'p.yaml:5:13: "kind" must be one of "repository", "ssh", "http", not "sh" — did you mean "ssh"?',
    ],
    [
      'missing required field',
      'version: 1\nmode: restrict\n',
      'p.yaml:1:1: missing required field "name" — add "name: ..." here',
    ],
    [
      'missing version',
      'name: p\nmode: restrict\n',
      'p.yaml:1:1: missing required field "version" — add "version: ..." here',
    ],
    [
      'missing mode',
      'version: 1\nname: p\n',
      'p.yaml:1:1: missing required field "mode" — add "mode: ..." here',
    ],
    [
      'missing resource host',
      `${HEAD}resources:\n  - { kind: ssh }\n`,
      'p.yaml:5:5: missing required field "host" — add "host: ..." here',
    ],
    [
      'unsupported version',
      'version: 2\nname: p\nmode: restrict\n',
      'p.yaml:1:10: "version" must be one of "1", not number 2',
    ],
    [
      'duplicate key',
      'version: 1\nname: p\nname: q\nmode: restrict\n',
      'p.yaml:3:1: duplicate key: this key appears twice in the same mapping — remove one of the two entries',
    ],
    [
      'YAML syntax error',
      'version: 1\nname: [p\nmode: restrict\n',
      'p.yaml:3:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'tabs',
      `${HEAD}rules:\n\t- allow: [a.com]\n`,
      'p.yaml:5:1: tabs are not allowed for indentation in YAML; indent with spaces',
    ],
    [
      'not a mapping',
      '- a\n- b\n',
      'p.yaml:1:1: a policy file holds a mapping with at least "version", "name" and "mode" — start with "version: 1"',
    ],
    [
      'empty file',
      '',
      'p.yaml:1:1: a policy file holds a mapping with at least "version", "name" and "mode" — start with "version: 1"',
    ],
    [
      'rule with two kinds',
      `${HEAD}rules:\n  - allow: [a.com]\n    deny: [b.com]\n`,
      'p.yaml:6:5: a rule has exactly one of "allow", "deny" or "decide", but this one has both "allow" and "deny" — split it into two rules (order matters: first match wins)',
    ],
    [
      'enforce: always on an allow rule',
      `${HEAD}rules:\n  - allow: [a.com]\n    enforce: always\n`,
      'p.yaml:6:5: "enforce: always" applies to deny rules only; this is an allow rule — remove "enforce", or move the destinations to a deny rule',
    ],
    [
      'enforce: always on a decide rule',
      `${HEAD}rules:\n  - decide: [a.com]\n    decider: { url: 'http://127.0.0.1:9/' }\n    enforce: always\n`,
      'p.yaml:7:5: "enforce: always" applies to deny rules only; this is a decide rule — remove "enforce", or move the destinations to a deny rule',
    ],
    [
      'enforce with another value',
      `${HEAD}rules:\n  - deny: [a.com]\n    enforce: true\n`,
      'p.yaml:6:14: "enforce" must be one of "always", not boolean true',
    ],
    [
      'rule with no kind',
      `${HEAD}rules:\n  - name: x\n`,
      'p.yaml:5:5: a rule needs one of "allow", "deny" or "decide" — write e.g. "- allow: [example.com]"',
    ],
    [
      'destination with two targets',
      `${HEAD}rules:\n  - allow:\n      - { host: a.com, cidr: 10.0.0.0/8 }\n`,
      'p.yaml:6:24: a destination has one of "host", "cidr", "ecosystem" or "any", but this one has "host" and "cidr" — split it into two entries',
    ],
    [
      'includeSubdomains on a wildcard',
      `${HEAD}rules:\n  - allow:\n      - { host: '*.a.com', includeSubdomains: true }\n`,
      'p.yaml:6:28: includeSubdomains needs an exact host name, not the wildcard "*.a.com" — write "host: a.com" with includeSubdomains, or drop includeSubdomains',
    ],
    [
      'includeSubdomains without host',
      `${HEAD}rules:\n  - allow:\n      - { cidr: 10.0.0.0/8, includeSubdomains: true }\n`,
      'p.yaml:6:29: includeSubdomains only applies to a "host"',
    ],
    [
      'unknown ecosystem (string entry)',
      `${HEAD}rules:\n  - allow: [ecosystem:pythn]\n`,
      'p.yaml:5:13: unknown ecosystem identifier "pythn" — did you mean "python"?',
    ],
    [
      'unknown ecosystem (object entry)',
      `${HEAD}rules:\n  - allow: [{ ecosystem: nod }]\n`,
      'p.yaml:5:26: unknown ecosystem identifier "nod" — did you mean "node"?',
    ],
    [
      'bad regex in redact',
      `${HEAD}redact:\n  - 'ok'\n  - '(unclosed'\n`,
      'p.yaml:6:5: "(unclosed" is not a valid regular expression: Invalid regular expression: /(unclosed/: Unterminated group',
    ],
    [
      'decide rule without decider',
      `${HEAD}rules:\n  - decide: [a.com]\n`,
      'p.yaml:5:5: this decide rule has no decider to ask — add "decider: {url: ...}" to the rule or the policy',
    ],
    [
      'decider with url and module',
      `${HEAD}rules:\n  - decide: [a.com]\n    decider: { url: 'http://x', module: ./m.mjs }\n`,
      'p.yaml:6:33: a decider has either "url" or "module", not both',
    ],
    [
      'decider without url or module',
      `${HEAD}decider: { timeoutMs: 10 }\n`,
      'p.yaml:4:10: a decider needs "url" (a webhook) or "module" (a JS file) — add "url: https://..." or "module: ./decider.mjs"',
    ],
    [
      'decider url not http',
      `${HEAD}decider: { url: 'ftp://x' }\n`,
      'p.yaml:4:17: "ftp://x" is not an http or https URL',
    ],
    [
      'CIDR with host bits',
      `${HEAD}rules:\n  - allow: [10.0.0.1/24]\n`,
      'p.yaml:5:13: 10.0.0.1/24 has host bits set — did you mean 10.0.0.0/24?',
    ],
    [
      'IP written as host',
      `${HEAD}rules:\n  - allow: [{ host: 10.0.0.1 }]\n`,
      'p.yaml:5:21: "10.0.0.1" is an IP address — write "cidr: 10.0.0.1"',
    ],
    [
      'backwards port range',
      `${HEAD}rules:\n  - allow: ['a.com:9000-8000']\n`,
      'p.yaml:5:13: "9000-8000" is a range that runs backwards — did you mean "8000-9000"?',
    ],
    [
      'port out of range in a list',
      `${HEAD}rules:\n  - allow: [a.com]\n    ports: [443, 70000]\n`,
      'p.yaml:6:18: port 70000 is out of range — ports are whole numbers from 1 to 65535',
    ],
    [
      'URL instead of host',
      `${HEAD}rules:\n  - allow: ['https://a.com/x']\n`,
      'p.yaml:5:13: "https://a.com/x" is a URL; rules take host names — write "a.com"',
    ],
    [
      'leading dot',
      `${HEAD}rules:\n  - allow: ['.a.com']\n`,
      'p.yaml:5:13: ".a.com" starts with a dot — write "**.a.com" for every subdomain, or use includeSubdomains: true to include "a.com" itself',
    ],
    [
      '** not leftmost',
      `${HEAD}rules:\n  - allow: ['a.**.example.com']\n`,
      'p.yaml:5:13: "**" is only valid as the whole leftmost label in "a.**.example.com" — did you mean "**.example.com"?',
    ],
    [
      'glob above a public suffix',
      `${HEAD}rules:\n  - allow: ['*example.com']\n`,
      'p.yaml:5:13: "*example.com" has a wildcard inside "*example", right above the public suffix "com", so it matches names anyone can register (such as "evilexample.com") — did you mean "*.example.com"?',
    ],
    [
      'resource host with a port',
      `${HEAD}resources:\n  - { kind: ssh, host: 'a.com:22' }\n`,
      'p.yaml:5:24: a resource host is one host name or address — put ports in "ports:"',
    ],
    [
      'wrong type',
      `${HEAD}rules: { allow: a.com }\n`,
      'p.yaml:4:8: "rules" must be a list, not a mapping',
    ],
    [
      'negative maxBodyCapture',
      `${HEAD}maxBodyCapture: -1\n`,
      'p.yaml:4:17: "maxBodyCapture": expected number to be >=0',
    ],
    [
      'empty name',
      "version: 1\nname: ''\nmode: restrict\n",
      'p.yaml:2:7: "name": expected string to have >=1 characters',
    ],
  ];
  for (const [title, text, message] of CASES)
    it(title, () => {
      assert.equal(errorOf(text), message);
    });

  it('reports every error at once, in file order', () => {
    const message = errorOf(
      `${HEAD}rules:\n  - allow: ['a.**.com', ecosystem:nope]\n  - deny: [10.0.0.1/8]\n`,
    );
    assert.deepEqual(
      message.split('\n').map((l) => l.split(': ')[0]),
      ['p.yaml:5:13', 'p.yaml:5:25', 'p.yaml:6:12'],
    );
  });

  it('JSON input works, with positions', () => {
    assert.equal(
      errorOf(
        '{\n  "version": 1,\n  "name": "p",\n  "mode": "restrict",\n  "rulez": []\n}\n',
        'p.json',
      ),
      'p.json:5:3: unknown field "rulez" — did you mean "rules"?',
    );
    assert.equal(
      errorOf('{"version": 1, "name": "p",\n "mode": "monitr"}', 'p.json'),
      'p.json:2:10: "mode" must be one of "monitor", "restrict", "inspect", not "monitr" — did you mean "monitor"?',
    );
    const ok = parseNative({
      text: '{"version": 1, "name": "j", "mode": "monitor",\n "rules": [{"allow": ["a.com:443"]}]}',
      file: 'p.json',
    });
    assert.deepEqual(ok.policy.rules[0]!.selectors[0]!.source, {
      file: 'p.json',
      line: 2,
      col: 23,
    });
  });

  it('diagnostics carry structured positions too', () => {
    try {
      parseNative({ text: `${HEAD}rulez: []\n`, file: 'p.yaml' });
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof PolicyError);
      assert.deepEqual(err.diagnostics, [
        {
          severity: 'error',
          file: 'p.yaml',
          line: 4,
          col: 1,
          message: 'unknown field "rulez"',
          hint: 'did you mean "rules"?',
        },
      ]);
    }
  });
});

describe('native format: emitNative round trip', () => {
  const POLICIES: Record<string, string> = {
    full: FULL,
    example: readFileSync('examples/native-ci.yaml', 'utf8'),
    ordering: `${HEAD}default: allow
rules:
  - deny: ['**.example.com', '8.8.0.0/16']
  - allow: [api.example.com, 8.8.8.8, { any: true, ports: 25 }]
  - deny: [{ host: '*', ports: '1-1023', transport: udp }]
`,
    monitor: `version: 1
name: m
mode: monitor
rules:
  - allow: [{ host: example.com, includeSubdomains: true, ports: [80, 443] }]
  - allow: ['[2001:db8::1]:8443', '2001:db8:1::/48']
`,
    enforceAlways: `version: 1
name: m
mode: monitor
rules:
  - name: blocked everywhere
    deny: ['**.pastebin.example', 203.0.113.0/24]
    enforce: always
  - deny: [other.example]
  - allow: ['**.example']
`,
    ports: `${HEAD}rules:
  - allow: [a.example, 'b.example:22', { host: c.example, ports: ['1000-2000', 3000] }]
    ports: [80, '8000-8080']
    transport: any
`,
    resources: `${HEAD}rules:
  - deny: ['**.corp.example']
resources:
  - { kind: repository, host: git.corp.example, ports: 22 }
  - { kind: http, host: 10.9.8.7 }
viaUpstreamProxy: ['**.partner.example', 192.0.2.0/24]
privateRanges: allow
`,
  };
  for (const [name, text] of Object.entries(POLICIES))
    it(name, () => {
      const policy = parseNative({ text, file: `${name}.yaml` }).policy;
      const yaml = assertImportEquivalent(policy);
      // Emitting the re-read policy gives the same text: the native form is a fixed point.
      const again = parseNative({ text: yaml, file: 'imported.yaml' }).policy;
      assert.equal(emitNative(again), yaml);
    });

  it('enforce: always survives emit and re-read', () => {
    const policy = nativePolicy(`rules:\n  - deny: [x.example]\n    enforce: always\n`, {
      mode: 'monitor',
    });
    assert.equal(policy.rules[0]!.enforceAlways, true);
    const yaml = emitNative(policy);
    assert.match(yaml, /enforce: always/);
    assert.equal(parseNative({ text: yaml, file: 'x.yaml' }).policy.rules[0]!.enforceAlways, true);
  });

  it('a header becomes YAML comments', () => {
    const yaml = emitNative(nativePolicy(''), { header: 'imported from x\n\nby egress' });
    assert.ok(yaml.startsWith('# imported from x\n#\n# by egress\nversion: 1\n'));
  });
});
