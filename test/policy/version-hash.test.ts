/**
 * The policy version is a hash of what the policy says, not of where it was read from: the same
 * file checked out at two paths (two machines, two CI workspaces) has one version (issue 16.8).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicy } from '../../src/policy/formats/index.js';
import { compilePolicy, policyHash } from '../../src/policy/engine/compile.js';

const TEXT = `version: 1
name: same
mode: restrict
rules:
  - allow: [example.com, "**.example.org:443"]
  - deny: [bad.example.com]
`;

function versionAt(file: string, text = TEXT): string {
  return compilePolicy(loadPolicy('native', { text, file }).policy).version;
}

describe('policy version hash', () => {
  it('is the same for the same policy loaded from two paths', () => {
    assert.equal(versionAt('/home/a/policy.yaml'), versionAt('/srv/ci/b/other-name.yaml'));
  });

  it('is the same for harden-runner workflows at two paths', () => {
    const wf = `name: ci
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: step-security/harden-runner@v2
        with:
          egress-policy: block
          allowed-endpoints: github.com:443
`;
    const v = (file: string) => policyHash(loadPolicy('harden-runner', { text: wf, file }).policy);
    assert.equal(v('/a/.github/workflows/ci.yml'), v('/b/checkout/.github/workflows/ci.yml'));
  });

  it('changes when the policy says something else', () => {
    assert.notEqual(
      versionAt('p.yaml'),
      versionAt('p.yaml', TEXT.replace('bad.example.com', 'worse.example.com')),
    );
  });
});
