/**
 * `egress lint` warns about deny rules that can never fire because an earlier allow matches
 * first (issue 16.4): the author thinks the destination is blocked, and it is allowed. The
 * warning points at the deny, names the allow that wins with its line, and says what to do.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicy } from '../../src/policy/formats/index.js';
import { lintPolicy } from '../../src/policy/lint.js';
import { formatDiagnostic } from '../../src/policy/source/diagnostics.js';

function lint(rules: string, extra = ''): string[] {
  const text = `version: 1\nname: t\nmode: restrict\n${extra}rules:\n${rules}`;
  const { policy } = loadPolicy('native', { text, file: 'p.yaml' });
  return lintPolicy(policy).map(formatDiagnostic);
}

describe('lint: deny rules an earlier allow always beats', () => {
  it('a wildcard allow above a deny of one of its names', () => {
    const out = lint(`  - allow: ["**.example.com"]\n  - deny: [secret.example.com]\n`);
    assert.deepEqual(out, [
      'p.yaml:6:12: warning: deny "secret.example.com" in rule 2 can never fire over TCP (it still applies to UDP): rule 1 (allow **.example.com at p.yaml:5:13) matches first and allows it — move the deny rule above rule 1 (line 5): the first rule that matches decides',
    ]);
  });

  it('the same transport everywhere: the deny never fires at all', () => {
    const out = lint(
      `  - allow: [{ host: "**.example.com", transport: any }]\n  - deny: ["**.internal.example.com"]\n`,
    );
    assert.equal(out.length, 1);
    assert.match(
      out[0]!,
      /^p\.yaml:6:12: warning: deny "\*\*\.internal\.example\.com" in rule 2 can never fire: rule 1 \(allow \*\*\.example\.com at p\.yaml:5:13\)/,
    );
  });

  it('port-limited entries: covered ports warn, uncovered ports do not', () => {
    const covered = lint(
      `  - allow: ["api.example.com:443"]\n  - deny: [{ host: api.example.com, ports: [443], transport: tcp }]\n`,
    );
    assert.equal(covered.length, 1);
    assert.match(covered[0]!, /deny "api\.example\.com" in rule 2 can never fire: rule 1/);
    const partly = lint(`  - allow: ["api.example.com:443"]\n  - deny: [api.example.com]\n`);
    assert.deepEqual(partly, [], 'the deny still blocks port 80');
  });

  it('includeSubdomains, CIDRs and any-destination allows', () => {
    assert.equal(
      lint(
        `  - allow: [{ host: example.com, includeSubdomains: true }]\n  - deny: ["*.example.com"]\n`,
      ).length,
      1,
    );
    assert.equal(lint(`  - allow: ["10.0.0.0/8"]\n  - deny: ["10.1.2.0/24"]\n`).length, 1);
    assert.equal(
      lint(`  - allow: [{ any: true, ports: 443 }]\n  - deny: ["pastebin.com:443"]\n`).length,
      1,
    );
  });

  it('a deny above the allow, or a narrower allow, is fine', () => {
    assert.deepEqual(lint(`  - deny: [secret.example.com]\n  - allow: ["**.example.com"]\n`), []);
    assert.deepEqual(lint(`  - allow: [a.example.com]\n  - deny: ["**.example.com"]\n`), []);
    assert.deepEqual(lint(`  - allow: ["*.example.com"]\n  - deny: ["**.example.com"]\n`), []);
  });

  it('an allowed ecosystem above a deny of one of its registries', () => {
    const out = lint(`  - allow: [ecosystem:python]\n  - deny: [files.pythonhosted.org]\n`);
    assert.equal(out.length, 1);
    assert.match(
      out[0]!,
      /deny "files\.pythonhosted\.org" in rule 2 can never fire over TCP .*rule 1 \(allow ecosystem:python at p\.yaml:5:13\)/,
    );
  });
});
