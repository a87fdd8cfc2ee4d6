/**
 * The command line as users run it: bin/egress in a child process, real files, exit codes and
 * output as DESIGN.md section 6 fixes them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

function egress(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/egress', ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function tempPolicy(text: string, name = 'policy.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-cli-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const POLICY = `version: 1
name: test
mode: restrict
rules:
  - deny: [bad.example.com]
  - allow: [example.com, "**.example.com:443", "10.0.0.0/8"]
`;

describe('egress check', () => {
  it('prints a table with verdict, reason and rule source', () => {
    const file = tempPolicy(POLICY);
    const r = egress('check', '--policy', file, 'example.com', 'bad.example.com', 'evil.test');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /policy "test" \(restrict, default deny/);
    assert.match(
      lines[2]!,
      /^example\.com\s+443\/tcp\s+allow\s+allowed_by_rule\s+#2 allow example\.com at .*policy\.yaml:6:13/,
    );
    assert.match(
      lines[3]!,
      /^bad\.example\.com\s+443\/tcp\s+deny\s+denied_by_rule\s+#1 deny bad\.example\.com at .*:5:12/,
    );
    assert.match(lines[4]!, /^evil\.test\s+443\/tcp\s+deny\s+default_deny\s+default \(deny\)/);
  });

  it('accepts every DEST form of DESIGN.md section 6', () => {
    const file = tempPolicy(POLICY);
    const dests = [
      'example.com',
      'a.example.com:443',
      '[2001:db8::1]:8443',
      '10.1.2.3',
      'https://a.example.com/x?y',
      'http://example.com:8080/',
      'tcp://example.com:22',
      'udp://example.com:53',
    ];
    const r = egress('check', '--json', '--policy', file, ...dests);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      out.map((o) => o.destination),
      dests,
    );
    for (const o of out)
      for (const key of ['destination', 'allowed', 'verdict', 'mode', 'reason', 'rule'])
        assert.ok(key in o, `${key} in output`);
    const target = (i: number) =>
      out[i]!.target as { port: number; transport: string; host: string };
    assert.equal(target(0).port, 443);
    assert.equal(target(2).host, '2001:db8::1');
    assert.equal(target(4).port, 443);
    assert.equal(target(5).port, 8080);
    assert.equal(target(6).port, 22);
    assert.equal(target(7).transport, 'udp');
    assert.equal(out[1]!.verdict, 'allow');
    assert.equal(out[3]!.verdict, 'allow');
    assert.equal(out[5]!.verdict, 'allow');
  });

  for (const bad of [
    'a b',
    'example.com:0',
    'example.com:70000',
    'tcp://example.com',
    'example.com/path',
    '[::1',
    'ex\u0001ample.com',
    'user@example.com',
    '1.2.3.256',
    'fe80::1%eth0',
  ]) {
    it(`rejects the malformed destination ${JSON.stringify(bad)} with exit 2`, () => {
      const file = tempPolicy(POLICY);
      const r = egress('check', '--policy', file, bad);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /egress: invalid destination/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  it('reports monitor mode denials as allowed with wouldDeny', () => {
    const r = egress('check', '--json', '--policy', 'builtin:monitor', '169.254.169.254:80');
    assert.equal(r.code, 0, r.stderr);
    const [d] = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assert.equal(d!.allowed, true);
    assert.equal(d!.wouldDeny, true);
    assert.equal(d!.reason, 'ip_class:metadata');
  });

  it('fails with exit 2 and a positioned message for a bad policy', () => {
    const file = tempPolicy(
      'version: 1\nname: x\nmode: restrict\nrules:\n  - allow: ["10.0.0.1/24"]\n',
    );
    const r = egress('check', '--policy', file, 'example.com');
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /policy\.yaml:5:13: 10\.0\.0\.1\/24 has host bits set — did you mean 10\.0\.0\.0\/24\?/,
    );
  });

  it('fails with exit 2 for a missing policy file or option', () => {
    assert.equal(egress('check', '--policy', '/nonexistent.yaml', 'x.com').code, 2);
    assert.equal(egress('check', 'x.com').code, 2);
    assert.equal(egress('check', '--policy', 'builtin:restrict').code, 2);
    assert.equal(
      egress('check', '--policy', 'builtin:restrict', '--from', 'nope', 'x.com').code,
      2,
    );
  });
});

describe('egress lint', () => {
  it('exits 0 for a valid policy and prints warnings with positions', () => {
    const file = tempPolicy(
      'version: 1\nname: x\nmode: restrict\nrules:\n  - allow: ["*.com", a.example]\n  - allow: [a.example]\n',
    );
    const r = egress('lint', '--policy', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid native policy "x"/);
    assert.match(
      r.stderr,
      /policy\.yaml:5:13: warning: "\*\.com" matches names anyone can register/,
    );
    assert.match(
      r.stderr,
      /policy\.yaml:6:13: warning: "a\.example" in rule 2 never matches: rule 1 \(allow\) matches it first — remove the duplicate/,
    );
  });

  it('exits 2 with FILE:LINE:COL messages for an invalid policy', () => {
    const file = tempPolicy('version: 1\nname: x\nmode: restrct\nwhitelistedDomains: []\n');
    const r = egress('lint', '--policy', file);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /policy\.yaml:3:7: "mode" must be one of "monitor", "restrict", "inspect", not "restrct" — did you mean "restrict"\?/,
    );
    assert.match(r.stderr, /policy\.yaml:4:1: unknown field "whitelistedDomains"/);
    assert.match(r.stderr, /add --from sds/);
  });

  it('reports YAML syntax errors and duplicate keys with positions', () => {
    const dup = tempPolicy('version: 1\nname: x\nname: y\nmode: restrict\n');
    assert.match(egress('lint', '--policy', dup).stderr, /policy\.yaml:3:1: duplicate key/);
    const syntax = tempPolicy('version: 1\nname: [x\nmode: restrict\n');
    const r = egress('lint', '--policy', syntax);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /policy\.yaml:\d+:\d+: YAML syntax error/);
  });
});

describe('egress import and summary', () => {
  it('prints native YAML that lint accepts', () => {
    const file = tempPolicy(POLICY);
    const r = egress('import', '--from', 'native', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^# Imported from/);
    const again = tempPolicy(r.stdout);
    assert.equal(egress('lint', '--policy', again).code, 0);
  });

  it('requires --from', () => {
    assert.equal(egress('import', tempPolicy(POLICY)).code, 2);
  });

  it('summarises in words', () => {
    const r = egress('summary', '--policy', tempPolicy(POLICY));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Mode: restrict/);
    assert.match(r.stdout, /1\. Blocks:\n\s+- bad\.example\.com/);
    assert.match(
      r.stdout,
      /every subdomain of example\.com \(not example\.com itself\) on port 443/,
    );
    assert.match(r.stdout, /Everything else is blocked\./);
  });

  it('knows the three built-in policies', () => {
    for (const mode of ['monitor', 'restrict', 'inspect']) {
      const r = egress('summary', '--policy', `builtin:${mode}`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Mode: ${mode}`));
    }
    const r = egress(
      'check',
      '--json',
      '--no-host-registries',
      '--policy',
      'builtin:restrict',
      'pypi.org',
      'files.pythonhosted.org',
      'evil.test',
    );
    const out = JSON.parse(r.stdout) as Array<{ verdict: string }>;
    assert.deepEqual(
      out.map((o) => o.verdict),
      ['allow', 'allow', 'deny'],
    );
  });
});
