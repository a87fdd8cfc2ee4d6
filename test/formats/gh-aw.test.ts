import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGhAw } from '../../src/policy/formats/gh-aw/parse.js';
import { loadPolicy } from '../../src/policy/formats/index.js';
import { assertImportEquivalent } from '../helpers/round-trip.js';
import {
  assertOnlyPolicyErrors,
  diagnosticsOf,
  fixture,
  fixturesIn,
  verdicts,
  warningsOf,
} from '../helpers/format-fixtures.js';

const DIR = 'test/fixtures/gh-aw';
const read = (name: string) => parseGhAw(fixture(`${DIR}/${name}`));

describe('gh-aw import', () => {
  it('allowed and blocked: deny rule first, then allow rule, then default deny', () => {
    const { policy } = read('valid/allowed-blocked.md');
    assert.equal(policy.name, 'Issue triage');
    assert.equal(policy.mode, 'restrict');
    assert.equal(policy.logLevel, 'debug');
    assert.deepEqual(
      policy.rules.map((r) => [r.kind, r.name, r.source?.line]),
      [
        ['deny', 'blocked', 19],
        ['allow', 'allowed', 12],
      ],
    );
    assert.deepEqual(
      verdicts(policy, [
        'pypi.org',
        'files.pythonhosted.org',
        'archive.ubuntu.com',
        'api.example.com',
        'www.api.example.com',
        'mirror.pypi.org',
        'build.corp.example',
        'a.b.corp.example',
        'corp.example',
        'x.ads.corp.example',
        'legacy.example.org:80',
        'legacy.example.org:443',
        '10.20.1.1:8080',
        'tracker.example.com',
        'cdn.tracker.example.com',
        'nodejs.org',
        'example.com',
      ]),
      {
        'pypi.org': 'allow',
        'files.pythonhosted.org': 'allow',
        'archive.ubuntu.com': 'allow',
        'api.example.com': 'allow',
        // Plain domains include their subdomains, as gh-aw's firewall (Squid dstdomain .x) does.
        'www.api.example.com': 'allow',
        'mirror.pypi.org': 'allow',
        'build.corp.example': 'allow',
        'a.b.corp.example': 'allow',
        'corp.example': 'deny',
        'x.ads.corp.example': 'deny',
        'legacy.example.org:80': 'allow',
        'legacy.example.org:443': 'deny',
        '10.20.1.1:8080': 'allow',
        'tracker.example.com': 'deny',
        'cdn.tracker.example.com': 'deny',
        'nodejs.org': 'deny',
        'example.com': 'deny',
      },
    );
  });

  it('no network field means the defaults ecosystem; the name falls back to the file name', () => {
    const { policy } = read('valid/no-network.md');
    assert.equal(policy.name, 'no-network');
    assert.deepEqual(
      policy.rules[0]!.selectors.map((s) => s.ecosystem),
      ['defaults'],
    );
    assert.equal(policy.rules[0]!.source?.line, 2, 'line of the real file, after the --- line');
    assert.deepEqual(verdicts(policy, ['json-schema.org', 'pypi.org']), {
      'json-schema.org': 'allow',
      'pypi.org': 'deny',
    });
  });

  it('network: defaults in a plain YAML document', () => {
    const { policy } = read('valid/defaults.yaml');
    assert.deepEqual(verdicts(policy, ['security.ubuntu.com', 'github.com']), {
      'security.ubuntu.com': 'allow',
      'github.com': 'deny',
    });
  });

  it('empty front matter is a workflow without network: defaults', () => {
    const { policy } = read('valid/empty-front-matter.md');
    assert.deepEqual(
      policy.rules[0]!.selectors.map((s) => s.ecosystem),
      ['defaults'],
    );
  });

  it('network: {} denies everything', () => {
    const { policy } = read('valid/deny-all.md');
    assert.equal(policy.name, 'Offline review');
    assert.deepEqual(policy.rules, []);
    assert.deepEqual(verdicts(policy, ['github.com', 'json-schema.org', '1.1.1.1']), {
      'github.com': 'deny',
      'json-schema.org': 'deny',
      '1.1.1.1': 'deny',
    });
  });

  it('"*" alone allows every destination, blocked still wins', () => {
    const { policy } = read('valid/unrestricted.md');
    assert.deepEqual(
      verdicts(policy, [
        'example.com',
        'a.b.c.test:8443',
        '8.8.8.8',
        'evil.example',
        'x.evil.example',
      ]),
      {
        'example.com': 'allow',
        'a.b.c.test:8443': 'allow',
        '8.8.8.8': 'allow',
        'evil.example': 'deny',
        'x.evil.example': 'deny',
      },
    );
  });

  it('warns about what it cannot carry over', () => {
    const parsed = read('valid/warnings.md');
    const f = `${DIR}/valid/warnings.md`;
    assert.deepEqual(warningsOf(parsed).sort(), [
      `${f}:4:3: warning: callers of this workflow may add entries at run time; this policy holds only the entries written here`,
      `${f}:5:3: warning: the firewall is disabled here, so gh-aw would not restrict the agent; egress enforces the allowed list anyway`,
      `${f}:8:7: warning: "*" allows every destination, so the other entries of "allowed" change nothing`,
    ]);
  });

  it('every valid fixture reads the same back from native YAML', () => {
    for (const file of fixturesIn(`${DIR}/valid`).concat('examples/gh-aw-workflow.md')) {
      assertImportEquivalent(parseGhAw(fixture(file)).policy);
    }
  });

  it('is registered as --from gh-aw, and reads the example', () => {
    const { policy } = loadPolicy('gh-aw', fixture('examples/gh-aw-workflow.md'));
    assert.equal(policy.name, 'Dependency triage');
    assert.equal(policy.logLevel, 'warn');
    assert.deepEqual(
      verdicts(policy, ['deps.dev', 'deps.dev:80', 'api.snyk.io', 'telemetry.example.com']),
      {
        'deps.dev': 'allow',
        'deps.dev:80': 'deny',
        'api.snyk.io': 'allow',
        'telemetry.example.com': 'deny',
      },
    );
  });

  const invalid: Record<string, string[]> = {
    'unknown-identifier.md': [
      '7:7: unknown ecosystem identifier "pyhton" — did you mean "python"?',
      '8:7: unknown ecosystem identifier "rustxxxx" — did you mean "rust"?',
      '9:7: unknown ecosystem identifier "localhost" — did you mean "local"?',
    ],
    'unknown-network-field.md': [
      '4:3: unknown field "allow" in "network" — did you mean "allowed"?',
      '7:5: unknown field "loglevel" in "firewall" — did you mean "log-level"?',
    ],
    'bad-log-level.md': [
      '6:16: "log-level" must be one of "debug", "info", "warn", "error", not "verbose"',
    ],
    'bad-entries.md': [
      '5:7: "https://example.com/path" has a path; network entries are domains — write "https://example.com"',
      '6:7: "ftp://files.example.com" has the protocol "ftp"; gh-aw takes http:// or https://',
      '7:7: "example.com:8080" has a port; gh-aw network entries are domains without ports — write "example.com" (every port), or use the native format for port rules',
      '8:7: "**.bad**.example": gh-aw takes one wildcard, at the start followed by a dot — write "*.example.com" (any depth of subdomains)',
      '9:7: 10.0.0.1/24 has host bits set — did you mean 10.0.0.0/24?',
    ],
    'blocked-not-list.md': ['5:12: "blocked" must be a list, not "github"'],
    'network-string.md': [
      '3:10: "network" must be one of "defaults", not "default" — did you mean "defaults"?',
    ],
    'unclosed.md': [
      '1:1: the front matter that starts here never ends — close the YAML front matter with a line holding only "---"',
    ],
    'yaml-error.md': [
      '4:19: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    'allow-urls.md': [
      '7:5: URL path filtering ("allow-urls" with SSL bump) is not supported: egress decides by host and port — remove "allow-urls" to allow the whole domains, or narrow "allowed" to the hosts you need',
    ],
    'not-a-workflow.yaml': [
      '1:1: expected a gh-aw workflow: Markdown with YAML front matter between "---" lines, or a YAML mapping — start the file with "---", then "network:", then "---"',
    ],
  };
  for (const [name, expected] of Object.entries(invalid)) {
    it(`rejects invalid/${name} at the right place`, () => {
      const file = `${DIR}/invalid/${name}`;
      assert.deepEqual(
        diagnosticsOf(() => parseGhAw(fixture(file))).filter((d) => !d.includes(': warning: ')),
        expected.map((e) => `${file}:${e}`),
      );
    });
  }

  it('every invalid fixture has its expected diagnostics listed', () => {
    assert.deepEqual(
      fixturesIn(`${DIR}/invalid`).map((f) => f.split('/').pop()),
      Object.keys(invalid).sort(),
    );
  });

  it('never throws anything but PolicyError', () => {
    const seeds = fixturesIn(`${DIR}/valid`).map((f) => fixture(f).text);
    assertOnlyPolicyErrors(parseGhAw, seeds);
  });
});
