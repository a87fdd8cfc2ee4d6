/**
 * A denial by a deny rule says which rule to change (issue 16.6): an allow rule added at the end
 * changes nothing, because the deny matches first. The 403 body and the `egress run` summary
 * both name the deny rule and where it is written.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, decide } from '../../src/policy/index.js';
import { loadPolicy } from '../../src/policy/formats/index.js';
import { denyBody } from '../../src/dataplane/responses/deny-response.js';
import { renderSummary } from '../../src/dataplane/sandbox/report/summary.js';

const TEXT = `version: 1
name: t
mode: restrict
rules:
  - allow: [example.com]
  - deny: ["**.example.org"]
  - allow: [ok.example.net]
`;

function decision(host: string) {
  const { policy } = loadPolicy('native', { text: TEXT, file: 'p.yaml' });
  return decide(compilePolicy(policy, { version: 'v' }), { host, port: 443 });
}

describe('how to get access after a deny rule', () => {
  it('the 403 body names the deny rule to change, with its line', () => {
    const body = denyBody(decision('api.example.org'));
    assert.match(
      body,
      /Rule 2 \(deny \*\*\.example\.org at p\.yaml:6:12\) denies this destination on purpose, so an allow rule added after it changes nothing\./,
    );
    assert.match(
      body,
      /To get access, ask the owner of this policy to add a rule\. The rule to change is rule 2 at p\.yaml:6:12: remove or narrow "\*\*\.example\.org" there, or put this allow rule above it:\n {2}- allow: \["api\.example\.org:443"\]/,
    );
    assert.doesNotMatch(body, /for example:/, 'no bare "add an allow rule" advice');
  });

  it('a default deny still suggests the allow entry to add', () => {
    const body = denyBody(decision('other.test'));
    assert.match(
      body,
      /To get access, ask the owner of this policy to add a rule, for example:\n {2}- allow: \["other\.test:443"\]/,
    );
  });

  it('the egress run summary says which deny rule to change', () => {
    const text = renderSummary(
      [
        {
          kind: 'connection',
          host: 'api.example.org',
          port: 443,
          transport: 'tcp',
          count: 2,
          enforced: true,
          reason: 'denied_by_rule',
          rule: { index: 1, kind: 'deny', source: 'p.yaml:6:12' },
        },
      ],
      't',
    );
    assert.match(
      text,
      /to allow: change deny rule 2 at p\.yaml:6:12 \(an allow added after it changes nothing\), or put - allow: \["api\.example\.org:443"\] above it/,
    );
  });
});
