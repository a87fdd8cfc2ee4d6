/**
 * A policy's `tests:` through the command line: `egress lint` fails (exit 2) at the failing
 * test's LINE:COL; `egress check` prints the results after its table; `check --json` keeps its
 * array of DESTs and adds the tests only with `--tests`.
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

function tempPolicy(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-tests-'));
  const path = join(dir, 'policy.yaml');
  writeFileSync(path, text);
  return path;
}

const PASSING = `version: 1
name: gh
mode: restrict
rules:
  - deny: pastebin.com
  - allow: [api.github.com, "**.githubusercontent.com"]
tests:
  - { dest: "api.github.com", expect: allow }
  - { dest: "pastebin.com:443", expect: deny }
`;
const FAILING = PASSING + `  - { dest: "raw.githubusercontent.com", expect: deny }\n`;

describe('egress lint runs the policy tests', () => {
  it('passing tests: valid, exit 0', () => {
    const r = egress('lint', '--policy', tempPolicy(PASSING));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid native policy "gh"/);
  });

  it('a failing test is an error at its LINE:COL, exit 2', () => {
    const file = tempPolicy(FAILING);
    const r = egress('lint', '--policy', file);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `${file}:10:5: test fails: raw.githubusercontent.com: expected deny, got allow: rule 2 (allow **.githubusercontent.com at ${file}:6:29) of policy "gh" matched — change the rules so that raw.githubusercontent.com is denied, or write "expect: allow" if allow is right\n`,
    );
  });

  it('a malformed test is an error with what to write instead, exit 2', () => {
    const file = tempPolicy(PASSING + `  - { dest: "a.com:0", expect: deny }\n`);
    const r = egress('lint', '--policy', file);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      new RegExp(`^${file.replace(/[.]/g, '\\.')}:10:13: not a destination: .* — write "host"`),
    );
  });
});

describe('egress check prints the policy tests', () => {
  it('after the table: each case, its result and where it is written', () => {
    const file = tempPolicy(FAILING);
    const r = egress('check', '--policy', file, 'example.com');
    assert.equal(r.code, 2, 'a failing test makes check exit 2, as lint does');
    const lines = r.stdout.split('\n');
    assert.match(lines[2]!, /^example\.com\s+443\/tcp\s+deny\s+default_deny/);
    assert.ok(lines.includes('tests: 2 of 3 pass, 1 fail'), r.stdout);
    assert.ok(
      lines.some((l) =>
        /^api\.github\.com\s+allow\s+allow\s+pass\s+allowed_by_rule\s+.*:8:5$/.test(l),
      ),
    );
    assert.ok(
      lines.some((l) =>
        /^raw\.githubusercontent\.com\s+deny\s+allow\s+FAIL\s+allowed_by_rule\s+.*:10:5$/.test(l),
      ),
    );
    assert.ok(
      lines.some((l) =>
        l.startsWith(`  FAIL ${file}:10:5: raw.githubusercontent.com: expected deny, got allow`),
      ),
    );
  });

  it('passing tests: exit 0; with --tests no DEST is needed', () => {
    const r = egress('check', '--policy', tempPolicy(PASSING), '--tests');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tests: 2 of 2 pass\n/);
    assert.doesNotMatch(r.stdout, /DESTINATION/);
  });

  it('--json stays one array of the DESTs; tests only with --tests, after them', () => {
    const file = tempPolicy(FAILING);
    const plain = egress('check', '--policy', file, '--json', 'example.com');
    const arr = JSON.parse(plain.stdout) as Array<Record<string, unknown>>;
    assert.equal(arr.length, 1);
    assert.equal(arr[0]!.destination, 'example.com');
    assert.equal('test' in arr[0]!, false);

    const r = egress('check', '--policy', file, '--json', '--tests', 'example.com');
    assert.equal(r.code, 2);
    const all = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      all.map((o) => [o.destination, o.verdict, (o.test as { pass?: boolean } | undefined)?.pass]),
      [
        ['example.com', 'deny', undefined],
        ['api.github.com', 'allow', true],
        ['pastebin.com:443', 'deny', true],
        ['raw.githubusercontent.com', 'allow', false],
      ],
    );
    for (const o of all)
      for (const key of ['allowed', 'verdict', 'mode', 'reason', 'rule']) assert.ok(key in o);
    assert.deepEqual(all[3]!.test, { expect: 'deny', pass: false, source: `${file}:10:5` });
  });

  it('no DEST and no --tests is still a usage error', () => {
    const r = egress('check', '--policy', tempPolicy(PASSING));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /give at least one destination/);
  });
});
