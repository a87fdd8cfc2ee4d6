/**
 * `--drain-timeout` bounds SIGTERM/SIGINT whatever the open connections do (issue 16: a tunnel
 * whose client had sent nothing kept a proxy up for 697 s, until a second signal). Each case
 * opens a connection that never sends another byte, then signals the proxy and measures how
 * long it takes to exit.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { listenPort, startEgress } from './ops-helpers.js';
import { eventually as waitFor } from '../helpers/poll.js';

/** A TCP server that accepts and never says anything (a server-first protocol that is slow). */
let silent: Server;
let silentPort: number;
const held: Socket[] = [];
before(async () => {
  silent = createServer((s) => void held.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.2', resolve));
  silentPort = (silent.address() as AddressInfo).port;
});
after(() => {
  for (const s of held) s.destroy();
  silent.close();
});

const POLICY = `version: 1
name: drain
mode: restrict
rules:
  - allow: [quiet.test, "127.0.0.2"]
`;

const DRAIN_MS = 400;

async function startProxy(extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'egress-drain-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, POLICY);
  const child = await startEgress([
    'proxy',
    '--policy',
    policy,
    '--listen',
    '127.0.0.1:0',
    '--resolve',
    'quiet.test=127.0.0.2',
    '--drain-timeout',
    String(DRAIN_MS),
    ...extra,
  ]);
  return { child, port: listenPort(child.stderr()) };
}

/** Sends `head`, waits for `expect` in the answer, then goes quiet for good. */
function openQuiet(port: number, head: Buffer | string, expect?: Buffer): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (expect && got.includes(expect)) resolve(socket);
    });
    socket.on('close', () => reject(new Error(`closed early: ${got.toString()}`)));
    socket.on('connect', () => {
      if (head.length > 0) socket.write(head);
      if (!expect) resolve(socket);
    });
  });
}

/** Signals the proxy and asserts that it exits 0 within the drain period plus a margin. */
async function assertExitsInTime(
  child: Awaited<ReturnType<typeof startProxy>>['child'],
  signal: NodeJS.Signals,
): Promise<void> {
  const started = Date.now();
  child.process.kill(signal);
  const code = await Promise.race([
    child.exited,
    new Promise<'hung'>((r) => setTimeout(() => r('hung'), DRAIN_MS + 4_000)),
  ]);
  const took = Date.now() - started;
  assert.notEqual(code, 'hung', `still running ${took} ms after ${signal}: ${child.stderr()}`);
  assert.equal(code, 0);
  assert.ok(took >= DRAIN_MS - 50, `waited for the drain period (${took} ms)`);
}

const connectHead = (port: number) =>
  `CONNECT quiet.test:${port} HTTP/1.1\r\nHost: quiet.test:${port}\r\n\r\n`;

test('SIGTERM: a CONNECT tunnel whose client never sends a byte ends at the drain timeout', async () => {
  const { child, port } = await startProxy();
  try {
    const tunnel = await openQuiet(port, connectHead(silentPort), Buffer.from('200'));
    await assertExitsInTime(child, 'SIGTERM');
    tunnel.destroy();
  } finally {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }
});

test('SIGINT: the same, by interrupt', async () => {
  const { child, port } = await startProxy();
  try {
    const tunnel = await openQuiet(port, connectHead(silentPort), Buffer.from('200'));
    await assertExitsInTime(child, 'SIGINT');
    tunnel.destroy();
  } finally {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }
});

test('SIGTERM: a SOCKS5 tunnel whose client never sends a byte ends at the drain timeout', async () => {
  const { child, port } = await startProxy();
  try {
    const greeting = Buffer.from([5, 1, 0]);
    const request = Buffer.concat([
      Buffer.from([5, 1, 0, 1, 127, 0, 0, 2]),
      Buffer.from([silentPort >> 8, silentPort & 0xff]),
    ]);
    const socket = await openQuiet(
      port,
      Buffer.concat([greeting, request]),
      Buffer.from([5, 0, 0]),
    );
    await assertExitsInTime(child, 'SIGTERM');
    socket.destroy();
  } finally {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }
});

test('SIGTERM: a transparent-listener connection that never sends a byte ends at the drain timeout', async () => {
  const { child } = await startProxy(['--transparent-listen', `127.0.0.1:0=${silentPort}`]);
  try {
    const transparent = listenPort(child.stderr(), 'egress transparent listening on');
    const socket = await openQuiet(transparent, '');
    await waitFor(() => held.length > 0 || child.stderr().length > 0, 500).catch(() => undefined);
    await assertExitsInTime(child, 'SIGTERM');
    socket.destroy();
  } finally {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }
});

test('SIGTERM: a client connection that never sends its request ends at the drain timeout', async () => {
  const { child, port } = await startProxy();
  try {
    const socket = await openQuiet(port, '');
    await assertExitsInTime(child, 'SIGTERM');
    socket.destroy();
  } finally {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }
});
