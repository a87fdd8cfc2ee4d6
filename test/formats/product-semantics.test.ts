/**
 * `egress import` claims the native YAML "decides every destination exactly as the original
 * does". That is only true if the mapping matches what the product itself enforces (issue 16.7):
 * - gh-aw: its firewall (AWF) writes every plain domain as Squid `dstdomain .x`, which matches
 *   the domain and all its subdomains, and ecosystem identifiers expand to such plain domains;
 * - Harden-Runner: the agent always allows its own API and the GitHub Actions service endpoints
 *   (`addImplicitEndpoints`), whatever `allowed-endpoints` says.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPolicy } from '../../src/policy/formats/index.js';
import { IMPLICIT_ENDPOINTS } from '../../src/policy/formats/harden-runner/implicit-endpoints.js';
import { assertImportEquivalent } from '../helpers/round-trip.js';
import { verdicts } from '../helpers/format-fixtures.js';

const GH_AW = `---
on: push
network:
  allowed:
    - python
    - "api.example.com"
    - "https://secure.example.net"
    - "*.corp.example"
  blocked:
    - "ads.example.com"
---
`;

const HARDEN = `egress-policy: block
allowed-endpoints: >
  registry.npmjs.org:443
`;

describe('imports decide as the product does', () => {
  it('gh-aw: a plain domain also allows its subdomains (Squid dstdomain .x)', () => {
    const { policy } = loadPolicy('gh-aw', { text: GH_AW, file: 'w.md' });
    assert.deepEqual(
      verdicts(policy, [
        'api.example.com',
        'v2.api.example.com',
        'a.b.api.example.com',
        'example.com',
        'secure.example.net:443',
        'www.secure.example.net:443',
        'www.secure.example.net:80',
        'build.corp.example',
        'corp.example',
        'ads.example.com',
        'x.ads.example.com',
        'pypi.org',
        'mirror.pypi.org',
        'files.pythonhosted.org',
        'notpypi.org',
      ]),
      {
        'api.example.com': 'allow',
        'v2.api.example.com': 'allow',
        'a.b.api.example.com': 'allow',
        'example.com': 'deny',
        'secure.example.net:443': 'allow',
        'www.secure.example.net:443': 'allow',
        'www.secure.example.net:80': 'deny',
        'build.corp.example': 'allow',
        'corp.example': 'deny',
        'ads.example.com': 'deny',
        'x.ads.example.com': 'deny',
        'pypi.org': 'allow',
        'mirror.pypi.org': 'allow',
        'files.pythonhosted.org': 'allow',
        'notpypi.org': 'deny',
      },
    );
    const yaml = assertImportEquivalent(policy, [{ host: 'deep.mirror.pypi.org', port: 443 }]);
    assert.match(yaml, /ecosystem: python\n\s+includeSubdomains: true/);
  });

  it('gh-aw: a wildcard gh-aw itself rejects is rejected, not read as something else', () => {
    assert.throws(
      () =>
        loadPolicy('gh-aw', {
          text: '---\nnetwork:\n  allowed: ["api-*.example.com"]\n---\n',
          file: 'w.md',
        }),
      /w\.md:3:13: "api-\*\.example\.com": gh-aw takes one wildcard, at the start followed by a dot/,
    );
  });

  it("harden-runner: the agent's implicit endpoints are allowed, on 443 only", () => {
    const { policy } = loadPolicy('harden-runner', { text: HARDEN, file: 'with.yml' });
    const dests = [...IMPLICIT_ENDPOINTS, 'pipelines.actions.githubusercontent.com:80'];
    const out = verdicts(policy, [
      ...dests,
      'registry.npmjs.org',
      'github.com',
      'x.codeload.github.com',
    ]);
    for (const host of IMPLICIT_ENDPOINTS) assert.equal(out[host], 'allow', host);
    assert.equal(out['pipelines.actions.githubusercontent.com:80'], 'deny');
    assert.equal(out['registry.npmjs.org'], 'allow');
    assert.equal(out['github.com'], 'deny', 'github.com itself is not implicit');
    assert.equal(out['x.codeload.github.com'], 'deny');
    assertImportEquivalent(policy);
  });

  it('egress import prints YAML that keeps both, with the claim in its header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-import-'));
    const file = join(dir, 'w.md');
    writeFileSync(file, GH_AW);
    const r = spawnSync(process.execPath, ['bin/egress', 'import', '--from', 'gh-aw', file], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /decides every destination exactly as the original does/);
    assert.match(r.stdout, /host: api\.example\.com\n\s+includeSubdomains: true/);
    const hr = join(dir, 'with.yml');
    writeFileSync(hr, HARDEN);
    const h = spawnSync(process.execPath, ['bin/egress', 'import', '--from', 'harden-runner', hr], {
      encoding: 'utf8',
    });
    assert.equal(h.status, 0, h.stderr);
    assert.match(
      h.stdout,
      /name: harden-runner implicit endpoints\n\s+allow:\n\s+- agent\.api\.stepsecurity\.io:443/,
    );
  });
});
