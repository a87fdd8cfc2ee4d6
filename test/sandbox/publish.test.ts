/**
 * `egress run --publish HOST_PORT:PORT[/udp]`: a server inside the sandbox is reached from
 * outside through the host port, only when the policy's ingress rules allow the port; each
 * inbound connection or UDP flow is an ingress.* event in the audit log.
 */
import { strict as assert } from 'node:assert';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  egressRun,
  freePort,
  readEvents,
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

/**
 * Sends `text` to the host's UDP port until an answer comes (the sandbox starts meanwhile),
 * then once more from the same socket (the same flow); returns the answers.
 */
async function udpAsk(port: number, text: string): Promise<string[]> {
  const socket = createSocket('udp4');
  const answers: string[] = [];
  socket.on('message', (m) => answers.push(m.toString()));
  try {
    for (let i = 0; i < 100 && answers.length === 0; i++) {
      socket.send(text, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
    }
    socket.send(`${text}-again`, port, '127.0.0.1');
    for (let i = 0; i < 20 && answers.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    return answers;
  } finally {
    socket.close();
  }
}

/** A Python UDP server inside the sandbox that answers two datagrams, then exits. */
const UDP_SERVER =
  'python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); ' +
  "s.bind(('127.0.0.1', 9000)); s.settimeout(10)\n" +
  "for i in range(2):\n  m, a = s.recvfrom(100); s.sendto(b'inside:' + m, a)\"";

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
    const audit = join(dir, 'ingress-ok.ndjson');
    const run = egressRun(
      [
        '--policy',
        policy,
        '--audit-log',
        audit,
        '--publish',
        `${hostPort}:8000`,
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
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(answer, { status: 200, body: 'published from inside\n' });
    const events = readEvents(audit).filter((e) => e.type.startsWith('ingress.'));
    const accepted = events.find((e) => e.type === 'ingress.accepted');
    assert.ok(accepted, JSON.stringify(events));
    assert.equal(accepted.destination?.port, 8000);
    assert.equal(accepted.client.address, '127.0.0.1');
    assert.equal(accepted.reason, 'allowed_by_rule');
    assert.equal(accepted.rule?.kind, 'ingress');
    const closed = events.find((e) => e.type === 'ingress.closed');
    assert.ok((closed?.bytesIn ?? 0) > 0 && (closed?.bytesOut ?? 0) > 0);
  });

  it('a connection made while the sandbox is still starting is relayed, not left hanging', async () => {
    const policy = writePolicy(
      dir,
      restrictPolicy('ingress:\n  allow:\n    - { ports: 8000, transport: tcp }\n'),
      'ingress-early.yaml',
    );
    const hostPort = await freePort();
    const audit = join(dir, 'ingress-early.ndjson');
    const run = egressRun([
      '--policy',
      policy,
      '--audit-log',
      audit,
      '--publish',
      `${hostPort}:8000`,
      '--',
      'sleep',
      '3',
    ]);
    // Connect from the moment the host port listens, long before the command runs.
    let socket: Socket | null = null;
    for (let i = 0; i < 2000 && !socket; i++) {
      socket = await new Promise<Socket | null>((resolve) => {
        const s = connect(hostPort, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(null));
      });
      if (!socket) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(socket, 'the host port listened');
    socket.on('error', () => {});
    const started = Date.now();
    // Nothing listens inside yet: the bridge refuses it, so the client sees it closed.
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    assert.ok(Date.now() - started < 2500, 'closed before the command ended, not left hanging');
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    const refused = readEvents(audit).find((e) => e.type === 'ingress.refused');
    assert.ok(refused, 'recorded as ingress.refused');
  });

  it('forwards UDP to a server inside, replies back to the sender, each flow an event', async () => {
    const policy = writePolicy(
      dir,
      restrictPolicy(
        'ingress:\n  default: deny\n  allow:\n    - { ports: 9000, transport: udp }\n',
      ),
      'ingress-udp.yaml',
    );
    const hostPort = await freePort();
    const audit = join(dir, 'ingress-udp.ndjson');
    const run = egressRun([
      '--policy',
      policy,
      '--audit-log',
      audit,
      '--publish',
      `${hostPort}:9000/udp`,
      '--',
      'sh',
      '-c',
      UDP_SERVER,
    ]);
    const answers = await udpAsk(hostPort, 'ping');
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(answers, ['inside:ping', 'inside:ping-again']);
    const all = readEvents(audit).filter((e) => e.type.startsWith('ingress.'));
    // Datagrams sent before the server inside was up are refused (once), then it is accepted.
    for (const e of all.filter((e) => e.type === 'ingress.refused'))
      assert.equal(e.reason, 'nothing_listening');
    const events = all.filter((e) => e.type !== 'ingress.refused');
    assert.deepEqual(
      events.map((e) => e.type),
      ['ingress.accepted', 'ingress.closed'],
    );
    assert.equal(events[0]!.destination?.transport, 'udp');
    assert.equal(events[0]!.destination?.port, 9000);
    assert.equal(events[1]!.bytesOut, 'inside:ping'.length + 'inside:ping-again'.length);
  });

  it('refuses UDP when the ingress rules allow only TCP on that port', async () => {
    const policy = writePolicy(
      dir,
      restrictPolicy(
        'ingress:\n  default: deny\n  allow:\n    - { ports: 9000, transport: tcp }\n',
      ),
      'ingress-tcp-only.yaml',
    );
    const r = await egressRun(['--policy', policy, '--publish', '18082:9000/udp', '--', 'true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /does not allow inbound udp to port 9000/);
    assert.match(r.stderr, /ingress: \{ allow: \[\{ ports: 9000, transport: udp \}\] \}/);
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
