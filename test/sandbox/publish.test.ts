/**
 * `egress run --publish HOST_PORT:PORT`: a server inside the sandbox is reached from outside
 * through the host port, only when the policy's ingress rules allow the port.
 */
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { before, describe, it } from 'node:test';
import {
  egressRun,
  freePort,
  restrictPolicy,
  sharedTempDir,
  writePolicy,
} from '../helpers/sandbox.js';

function get(port: number): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/hello.txt', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(null));
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** A Python HTTP server inside the sandbox that answers one request, then exits. */
const ONE_REQUEST_SERVER =
  'cd "$DIR" && python3 -c "import http.server as h; ' +
  "s=h.HTTPServer(('127.0.0.1', 8000), h.SimpleHTTPRequestHandler); s.handle_request()\" 2>/dev/null";

describe('egress run --publish', () => {
  let dir: string;

  before(() => {
    dir = sharedTempDir();
    writePolicy(dir, 'published from inside\n', 'hello.txt');
  });

  it('forwards the host port to a server inside when the ingress rules allow it', async () => {
    const policy = writePolicy(
      dir,
      restrictPolicy(
        'ingress:\n  default: deny\n  allow:\n    - { ports: 8000, transport: tcp }\n',
      ),
      'ingress-ok.yaml',
    );
    const hostPort = await freePort();
    const run = egressRun(
      ['--policy', policy, '--publish', `${hostPort}:8000`, '--', 'sh', '-c', ONE_REQUEST_SERVER],
      { env: { ...process.env, DIR: dir } },
    );
    let answer: Awaited<ReturnType<typeof get>> = null;
    for (let i = 0; i < 100 && !answer; i++) {
      answer = await get(hostPort);
      if (!answer) await new Promise((r) => setTimeout(r, 100));
    }
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(answer, { status: 200, body: 'published from inside\n' });
  });

  it('refuses at start a port the ingress rules do not allow, naming the rule to add', async () => {
    const policy = writePolicy(
      dir,
      restrictPolicy(
        'ingress:\n  default: deny\n  allow:\n    - { ports: 9000, transport: tcp }\n',
      ),
      'ingress-no.yaml',
    );
    const r = await egressRun(['--policy', policy, '--publish', '18081:8000', '--', 'true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /does not allow inbound tcp to port 8000/);
    assert.match(r.stderr, /ingress: \{ allow: \[\{ ports: 8000, transport: tcp \}\] \}/);
  });

  it('a policy without ingress rules publishes what was asked; bad specs are usage errors', async () => {
    const policy = writePolicy(dir, restrictPolicy(), 'plain.yaml');
    const hostPort = await freePort();
    const run = egressRun(
      [
        '--policy',
        policy,
        '--publish',
        `127.0.0.1:${hostPort}:8000`,
        '--',
        'sh',
        '-c',
        ONE_REQUEST_SERVER,
      ],
      { env: { ...process.env, DIR: dir } },
    );
    let answer: Awaited<ReturnType<typeof get>> = null;
    for (let i = 0; i < 100 && !answer; i++) {
      answer = await get(hostPort);
      if (!answer) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await run).code, 0);
    assert.equal(answer?.status, 200);
    const bad = await egressRun(['--policy', policy, '--publish', '8000', '--', 'true']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /write HOST_PORT:PORT/);
  });
});
