/**
 * egress run as a process: the command's exit code and signals pass through, stdin/stdout
 * stay the command's, nothing of ours or the command's is left when it ends, ordinary users
 * can run it, and bad input fails before anything starts.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type Origin } from '../helpers/proxy-harness.js';
import {
  egressRun,
  processesWith,
  restrictPolicy,
  sharedTempDir,
  writePolicy,
} from '../helpers/sandbox.js';
import { WITHOUT_NFT } from '../helpers/tools.js';

const sleepFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('egress run: process behaviour', () => {
  let dir: string;
  let policy: string;
  let origin: Origin;

  before(async () => {
    dir = sharedTempDir();
    policy = writePolicy(dir, restrictPolicy());
    origin = await startOrigin('127.0.0.2');
  });
  after(async () => origin.close());

  const run = (command: string[], extra: Parameters<typeof egressRun>[1] = {}) =>
    egressRun(['--policy', policy, '--', ...command], extra);

  it('exits with the command exit code; stdout is the command', async () => {
    assert.equal((await run(['true'])).code, 0);
    const r = await run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    // Without nft, egress says once at start that direct connections cannot be redirected.
    const ours = /^egress: programs that ignore the proxy variables .*\n/;
    assert.equal(WITHOUT_NFT ? r.stderr.replace(ours, '') : r.stderr, 'err\n');
  });

  it('a command that cannot be found exits 127 with the reason', async () => {
    const r = await run(['/nonexistent/tool']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /nonexistent/);
  });

  it('the command runs as the caller (uid and gid), in the caller folder', async () => {
    const r = await run(['sh', '-c', 'id -u; id -g; pwd']);
    assert.equal(r.stdout, `${process.getuid!()}\n${process.getgid!()}\n${process.cwd()}\n`);
  });

  it('SIGINT sent to egress run reaches the command (its trap runs; exit 130)', async () => {
    let child: import('node:child_process').ChildProcess | undefined;
    const done = run(
      ['sh', '-c', 'trap "echo got-INT; exit 130" INT; echo ready; while :; do sleep 0.05; done'],
      { onSpawn: (c) => (child = c) },
    );
    await waitForOutput(() => child, 'ready');
    child!.kill('SIGINT');
    const r = await done;
    assert.match(r.stdout, /got-INT/);
    assert.equal(r.code, 130);
  });

  it('Ctrl-C to the whole process group (as a terminal sends it) ends the command, not us first', async () => {
    let child: import('node:child_process').ChildProcess | undefined;
    const done = egressRun(
      [
        '--policy',
        policy,
        '--',
        'sh',
        '-c',
        'trap "echo got-INT; exit 130" INT; echo ready; while :; do sleep 0.05; done',
      ],
      { onSpawn: (c) => (child = c), detached: true },
    );
    await waitForOutput(() => child, 'ready');
    process.kill(-child!.pid!, 'SIGINT');
    const r = await done;
    assert.match(r.stdout, /got-INT/);
    assert.equal(r.code, 130);
  });

  it('a command killed by SIGTERM makes egress run exit 143', async () => {
    let child: import('node:child_process').ChildProcess | undefined;
    const done = run(['sh', '-c', 'echo ready; exec sleep 30'], { onSpawn: (c) => (child = c) });
    await waitForOutput(() => child, 'ready');
    child!.kill('SIGTERM');
    const r = await done;
    assert.equal(r.code, 143);
  });

  it('leaves no process behind: background children of the command are gone at the end', async () => {
    const marker = `${4000 + Math.floor(Math.random() * 1000)}.5`;
    const r = await run(['sh', '-c', `sleep ${marker} & sleep ${marker} & echo started`]);
    assert.equal(r.code, 0);
    await sleepFor(300);
    assert.deepEqual(processesWith(`sleep ${marker}`), []);
    assert.deepEqual(processesWith('sandbox/bridge.js'), []);
  });

  it(
    'works as an ordinary user (nobody)',
    { skip: (process.getuid!() !== 0 && 'needs root to become nobody') || WITHOUT_NFT },
    async () => {
      const r = await egressRun(
        [
          '--policy',
          policy,
          '--resolve',
          'allowed.test=127.0.0.2',
          '--',
          'sh',
          '-c',
          `id -u; curl -s -o /dev/null -w '%{http_code}\\n' http://allowed.test:${origin.port}/nobody; ` +
            `curl -s -o /dev/null -w '%{http_code}\\n' --max-time 5 --noproxy '*' http://192.0.2.10:${origin.port}/`,
        ],
        {
          prefix: ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'],
          env: { PATH: process.env.PATH, HOME: '/nonexistent' },
        },
      );
      const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [nobody, '200', '403']);
      assert.ok(origin.seen.some((s) => s.url === '/nobody'));
    },
  );

  it('a bad policy exits 2 before anything runs', async () => {
    const bad = writePolicy(dir, 'version: 1\nrulez: []\n', 'bad.yaml');
    const r = await egressRun(['--policy', bad, '--', 'sh', '-c', 'echo ran']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /bad\.yaml:2:1/);
  });
});

async function waitForOutput(
  child: () => import('node:child_process').ChildProcess | undefined,
  text: string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  let seen = '';
  while (!child()) await sleepFor(10);
  child()!.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
  while (!seen.includes(text)) {
    if (Date.now() > deadline) throw new Error(`"${text}" did not appear`);
    await sleepFor(20);
  }
}
