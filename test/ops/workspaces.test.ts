import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, type Origin } from '../helpers/proxy-harness.js';
import { run } from '../helpers/run.js';
import { listenPort, startEgress, type Child } from './ops-helpers.js';
import { eventually } from '../helpers/poll.js';

let origin: Origin;
before(async () => {
  origin = await startOrigin('127.0.0.2');
});
after(() => origin.close());

const allow = (name: string, host: string) =>
  `version: 1\nname: ${name}\nmode: restrict\nrules:\n  - allow: [${host}, "127.0.0.2"]\n`;
const pins = [
  '--resolve',
  'a.test=127.0.0.2',
  '--resolve',
  'b.test=127.0.0.2',
  '--resolve',
  'c.test=127.0.0.2',
];

/** curl through the proxy; returns the status code and response headers. */
async function curl(
  port: number,
  host: string,
  auth: string[] = [],
): Promise<{ code: string; headers: string }> {
  const { stdout } = await run('curl', [
    '-s',
    '-D',
    '-',
    '-o',
    '/dev/null',
    '-w',
    'CODE=%{http_code}',
    '-x',
    `http://127.0.0.1:${port}`,
    ...auth,
    `http://${host}:${origin.port}/`,
  ]);
  return { code: /CODE=([0-9]+)/.exec(stdout)![1]!, headers: stdout };
}

function workspacesFile(dir: string, extra = ''): string {
  writeFileSync(join(dir, 'a.yaml'), allow('policy-a', 'a.test'));
  writeFileSync(join(dir, 'b.yaml'), allow('policy-b', 'b.test'));
  writeFileSync(join(dir, 'b.token'), 'token-b\n');
  const file = join(dir, 'workspaces.yaml');
  writeFileSync(
    file,
    `workspaces:\n  - name: ws-a\n    token: token-a\n    policy: a.yaml\n  - name: ws-b\n    tokenFile: b.token\n    policy: b.yaml\n${extra}`,
  );
  return file;
}

async function withProxy(args: string[], body: (port: number, child: Child) => Promise<void>) {
  const child = await startEgress(['proxy', '--listen', '127.0.0.1:0', ...pins, ...args]);
  try {
    await body(listenPort(child.stderr()), child);
  } finally {
    child.process.kill('SIGTERM');
    await child.exited;
  }
}

test('--workspaces FILE: Proxy-Authorization picks the workspace and so the policy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-ws-'));
  await withProxy(['--workspaces', workspacesFile(dir)], async (port) => {
    assert.equal((await curl(port, 'a.test', ['-U', 'ws-a:token-a'])).code, '200');
    assert.equal((await curl(port, 'b.test', ['-U', 'ws-a:token-a'])).code, '403');
    assert.equal((await curl(port, 'b.test', ['--proxy-user', 'ws-b:token-b'])).code, '200');
    assert.equal((await curl(port, 'a.test', ['--proxy-user', 'ws-b:token-b'])).code, '403');
    const none = await curl(port, 'a.test');
    assert.equal(none.code, '407');
    assert.match(none.headers, /Proxy-Authenticate: Basic/i);
    assert.equal((await curl(port, 'a.test', ['-U', 'ws-a:wrong'])).code, '407');
    assert.equal((await curl(port, 'a.test', ['-U', 'nobody:token-a'])).code, '407');
    // CONNECT is identified the same way.
    const tunnel = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-p',
      '-x',
      `http://127.0.0.1:${port}`,
      '-U',
      'ws-b:token-b',
      `http://b.test:${origin.port}/`,
    ]);
    assert.equal(tunnel.stdout, '200');
  });
});

test('--default-policy serves clients without credentials; wrong credentials are still 407', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-ws-'));
  writeFileSync(join(dir, 'default.yaml'), allow('fallback', 'c.test'));
  await withProxy(
    ['--workspaces', workspacesFile(dir), '--default-policy', join(dir, 'default.yaml')],
    async (port) => {
      assert.equal((await curl(port, 'c.test')).code, '200');
      assert.equal((await curl(port, 'a.test')).code, '403');
      assert.equal((await curl(port, 'c.test', ['-U', 'ws-a:wrong'])).code, '407');
    },
  );
});

test('--workspaces DIR: NAME.yaml policies plus a tokens file; SIGHUP reloads them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-wsdir-'));
  writeFileSync(join(dir, 'team-a.yaml'), allow('policy-a', 'a.test'));
  writeFileSync(join(dir, 'tokens'), 'team-a: secret-a\n');
  await withProxy(['--workspaces', dir], async (port, child) => {
    assert.equal((await curl(port, 'a.test', ['-U', 'team-a:secret-a'])).code, '200');
    assert.equal((await curl(port, 'b.test', ['-U', 'team-b:secret-b'])).code, '407');
    writeFileSync(join(dir, 'team-b.yaml'), allow('policy-b', 'b.test'));
    writeFileSync(join(dir, 'tokens'), 'team-a: secret-a\nteam-b: secret-b\n');
    child.process.kill('SIGHUP');
    await eventually(() => child.stderr().includes('policy reloaded'), 5000);
    assert.equal((await curl(port, 'b.test', ['-U', 'team-b:secret-b'])).code, '200');
  });
});

function egress(args: string[]) {
  return spawnSync(process.execPath, ['bin/egress', 'proxy', '--listen', '127.0.0.1:0', ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  });
}

test('a bad workspaces file is refused with FILE:LINE:COL errors (exit 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-wsbad-'));
  const file = workspacesFile(
    dir,
    '  - name: ws-a\n    policy: a.yaml\n    tokn: x\n  - name: ws-c\n    token: t\n    policy: missing.yaml\n    from: sdss\n',
  );
  const r = egress(['--workspaces', file]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`${file}:10:5: .*tokn`));
  const second = egress([
    '--workspaces',
    workspacesFile(
      mkdtempSync(join(tmpdir(), 'egress-wsbad-')),
      '  - name: ws-a\n    token: x\n    policy: a.yaml\n',
    ),
  ]);
  assert.equal(second.status, 2);
  assert.match(second.stderr, /workspaces\.yaml:8:\d+: workspace "ws-a" is listed twice/);
  const third = egress([
    '--workspaces',
    workspacesFile(
      mkdtempSync(join(tmpdir(), 'egress-wsbad-')),
      '  - name: ws-c\n    token: x\n    policy: missing.yaml\n    from: sdss\n',
    ),
  ]);
  assert.equal(third.status, 2);
  assert.match(third.stderr, /:11:11: unknown format "sdss" — did you mean "sds"/);
});

test("a workspace policy's own error points into that policy file", () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-wsbad-'));
  const file = workspacesFile(dir);
  writeFileSync(join(dir, 'b.yaml'), 'version: 1\nname: b\nmode: restrikt\n');
  const r = egress(['--workspaces', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /b\.yaml:3:7: /);
});

test('a folder whose tokens and policies do not pair up is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-wsdirbad-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'x.yaml'), allow('x', 'a.test'));
  writeFileSync(join(dir, 'tokens'), 'y: token-y\n');
  const r = egress(['--workspaces', dir]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /tokens:1:1: workspace "y" has a token but no policy file/);
  assert.match(r.stderr, /workspace "x" has no token/);
});

test('--policy and --workspaces together, or --default-policy alone, are usage errors', () => {
  assert.equal(egress(['--policy', 'builtin:restrict', '--workspaces', '.']).status, 2);
  assert.equal(egress(['--policy', 'builtin:restrict', '--default-policy', 'x']).status, 2);
  assert.equal(egress([]).status, 2);
});
