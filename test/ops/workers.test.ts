import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, type Origin } from '../helpers/proxy-harness.js';
import { workerExecArgv } from '../../src/dataplane/node/worker-pool.js';
import { eventually } from '../helpers/poll.js';
import { listenPort, proxyGet, startEgress } from './ops-helpers.js';

let origin: Origin;
before(async () => {
  origin = await startOrigin('127.0.0.2');
});
after(() => origin.close());

const policy = (allowed: string) => `version: 1
name: workers
mode: restrict
rules:
  - allow: [${allowed}, "127.0.0.2"]
`;

/** Pids of the processes whose parent is `pid` (the supervisor's workers). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return out.sort();
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

test('--workers 2: one listening line, shared port, summed metrics, SIGHUP reloads every worker, a dead worker is replaced, SIGTERM stops all', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-workers-'));
  const policyFile = join(dir, 'policy.yaml');
  const auditLog = join(dir, 'audit.ndjson');
  writeFileSync(policyFile, policy('first.test'));
  const child = await startEgress(
    [
      'proxy',
      '--policy',
      policyFile,
      '--listen',
      '127.0.0.1:0',
      '--workers',
      '2',
      '--resolve',
      'first.test=127.0.0.2',
      '--resolve',
      'second.test=127.0.0.2',
      '--audit-log',
      auditLog,
      '--admin-listen',
      '127.0.0.1:0',
      '--drain-timeout',
      '500',
    ],
    'egress admin listening on',
  );
  const supervisor = child.process.pid!;
  try {
    assert.equal(count(child.stderr(), 'egress proxy listening on'), 1, child.stderr());
    assert.match(child.stderr(), /policy "workers", restrict; 2 workers\)/);
    const workers = childrenOf(supervisor);
    assert.equal(workers.length, 2, `two workers: ${workers.join(', ')}`);
    for (const pid of workers)
      assert.match(
        readFileSync(`/proc/${pid}/cmdline`, 'utf8'),
        /--max-semi-space-size=32/,
        'workers get the larger young generation',
      );

    const port = listenPort(child.stderr());
    const admin = listenPort(child.stderr(), 'egress admin listening on');
    const url = (host: string) => `http://${host}:${origin.port}/`;
    // Each request on a new connection, so the kernel may hand them to either worker.
    for (let i = 0; i < 12; i++)
      assert.equal((await proxyGet(port, url('first.test'))).status, 200);
    const denied = await proxyGet(port, url('second.test'));
    assert.equal(denied.status, 403);
    assert.equal(denied.headers['x-egress-decision'], 'deny');

    const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    assert.match(
      metrics,
      /egress_decisions_total\{verdict="allow",reason="allowed_by_rule"\} 12\n/,
    );
    assert.match(metrics, /egress_decisions_total\{verdict="deny",reason="default_deny"\} 1\n/);
    assert.match(metrics, /egress_audit_healthy 1\n/);
    const health = await fetch(`http://127.0.0.1:${admin}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { audit: string }).audit, 'ok');

    // SIGHUP: every worker reads the policy again.
    writeFileSync(policyFile, policy('second.test'));
    child.process.kill('SIGHUP');
    await eventually(() => count(child.stderr(), 'policy reloaded') >= 2, 5000);
    for (let i = 0; i < 8; i++) {
      assert.equal((await proxyGet(port, url('second.test'))).status, 200);
      assert.equal((await proxyGet(port, url('first.test'))).status, 403);
    }

    // A worker killed outright is replaced; the proxy keeps serving meanwhile.
    process.kill(workers[0]!, 'SIGKILL');
    await eventually(() => {
      const now = childrenOf(supervisor);
      return now.length === 2 && !now.includes(workers[0]!);
    }, 5000);
    for (let i = 0; i < 6; i++)
      assert.equal((await proxyGet(port, url('second.test'))).status, 200);
    assert.match(child.stderr(), /a proxy worker died; starting another/);

    const remaining = childrenOf(supervisor);
    child.process.kill('SIGTERM');
    assert.equal(await child.exited, 0);
    for (const pid of remaining)
      assert.throws(() => process.kill(pid, 0), 'no worker outlives the supervisor');

    const events = readFileSync(auditLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; workers?: number });
    const started = events.filter((e) => e.type === 'proxy.started');
    assert.equal(started.length, 1);
    assert.equal(started[0]!.workers, 2);
    assert.equal(events.filter((e) => e.type === 'proxy.stopped').length, 1);
    assert.equal(events.filter((e) => e.type === 'request.allowed').length, 26);
    assert.equal(events.filter((e) => e.type === 'request.denied').length, 9);
  } finally {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
    for (const pid of childrenOf(supervisor)) process.kill(pid, 'SIGKILL');
  }
});

test('--workers: a bad policy or a bad count exits 2 before any worker starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-workers-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'version: 1\nname: bad\nmode: restrict\nrules:\n  - allow: [a.test]\n    colour: x\n',
  );
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['bin/egress', 'proxy', '--listen', '127.0.0.1:0', ...args], {
      encoding: 'utf8',
      timeout: 20_000,
    });
  const badPolicy = run(['--policy', bad, '--workers', '2']);
  assert.equal(badPolicy.status, 2, badPolicy.stderr);
  assert.match(badPolicy.stderr, /bad\.yaml:6:5/);
  assert.doesNotMatch(badPolicy.stderr, /listening/);

  writeFileSync(join(dir, 'ok.yaml'), policy('a.test'));
  for (const value of ['0', 'many', '1000']) {
    const r = run(['--policy', join(dir, 'ok.yaml'), '--workers', value]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--workers must be "auto" or a number from 1 to 64/);
  }
});

test('worker node flags: a 32 MiB semi-space unless the operator chose one', () => {
  assert.deepEqual(workerExecArgv([]), ['--max-semi-space-size=32']);
  assert.deepEqual(workerExecArgv(['--enable-source-maps']), [
    '--enable-source-maps',
    '--max-semi-space-size=32',
  ]);
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=8']), ['--max-semi-space-size=8']);
  assert.deepEqual(workerExecArgv([], '--max_semi_space_size=64 --trace-gc'), []);
});
