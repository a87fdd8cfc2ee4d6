import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, type Origin } from '../helpers/proxy-harness.js';
import { listenPort, proxyGet, startEgress, type Child } from './ops-helpers.js';
import { eventually } from '../helpers/poll.js';

let origin: Origin;
before(async () => {
  origin = await startOrigin('127.0.0.2');
});
after(() => origin.close());

const allowing = (name: string) => `version: 1
name: ${name}
mode: restrict
rules:
  - allow: [first.test, "127.0.0.2"]
`;
const denyingFirst = `version: 1
name: second
mode: restrict
rules:
  - deny: [first.test]
  - allow: [second.test, "127.0.0.2"]
`;

/**
 * Writes `policy` to a fresh folder and starts `egress proxy` on it, listening on an ephemeral
 * port with first.test pinned to the origin; `extra` adds flags (it gets the folder).
 */
async function startProxyOn(
  policy: string,
  extra: (dir: string) => string[],
): Promise<{ policyFile: string; child: Child }> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-reload-'));
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, policy);
  const child = await startEgress([
    'proxy',
    '--policy',
    policyFile,
    '--listen',
    '127.0.0.1:0',
    '--resolve',
    'first.test=127.0.0.2',
    ...extra(dir),
  ]);
  return { policyFile, child };
}

/** Opens a CONNECT tunnel through the proxy and returns the socket once it is established. */
function openTunnel(
  port: number,
  authority: string,
): Promise<{ socket: Socket; read: () => string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let established = false;
    socket.on('data', (c: Buffer) => {
      data += c.toString();
      if (!established && data.includes('\r\n\r\n')) {
        if (!data.startsWith('HTTP/1.1 200')) return reject(new Error(data));
        established = true;
        data = '';
        resolve({ socket, read: () => data });
      }
    });
    socket.on('error', reject);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

async function getOverTunnel(
  t: { socket: Socket; read: () => string },
  host: string,
): Promise<string> {
  const before = t.read().length;
  t.socket.write(`GET /through-tunnel HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  await eventually(() => t.read().slice(before).includes('origin GET /through-tunnel'), 5000);
  return t.read().slice(before);
}

test('SIGHUP reloads: new decisions apply, an open tunnel stays up, a bad policy is refused, SIGTERM drains', async () => {
  const { policyFile, child } = await startProxyOn(allowing('first'), (dir) => [
    '--resolve',
    'second.test=127.0.0.2',
    '--audit-log',
    join(dir, 'audit.ndjson'),
    '--drain-timeout',
    '700',
  ]);
  const port = listenPort(child.stderr());
  try {
    const url = (host: string) => `http://${host}:${origin.port}/`;
    assert.equal((await proxyGet(port, url('first.test'))).status, 200);
    assert.equal((await proxyGet(port, url('second.test'))).status, 403);
    const tunnel = await openTunnel(port, `first.test:${origin.port}`);
    assert.match(await getOverTunnel(tunnel, 'first.test'), /200 OK/);

    writeFileSync(policyFile, denyingFirst);
    child.process.kill('SIGHUP');
    await eventually(() => child.stderr().includes('policy reloaded'), 5000);
    assert.equal((await proxyGet(port, url('first.test'))).status, 403);
    assert.equal((await proxyGet(port, url('second.test'))).status, 200);
    // The tunnel opened under the old policy keeps working.
    assert.match(await getOverTunnel(tunnel, 'first.test'), /200 OK/);

    writeFileSync(
      policyFile,
      'version: 1\nname: broken\nmode: restrict\nrules:\n  - allow: [first.test]\n    colour: blue\n',
    );
    child.process.kill('SIGHUP');
    await eventually(() => child.stderr().includes('policy reload refused'), 5000);
    assert.match(child.stderr(), new RegExp(`${policyFile.replace(/[.]/g, '\\.')}:6:5`));
    assert.equal(
      (await proxyGet(port, url('second.test'))).status,
      200,
      'the previous policy stays',
    );
    assert.equal((await proxyGet(port, url('first.test'))).status, 403);

    // SIGTERM: the open tunnel is closed after the drain period, and the exit code is 0.
    const closed = new Promise<void>((resolve) => tunnel.socket.on('close', () => resolve()));
    const started = Date.now();
    child.process.kill('SIGTERM');
    assert.equal(await child.exited, 0);
    await closed;
    const took = Date.now() - started;
    assert.ok(took >= 600, `waited for the drain period (${took} ms)`);
    assert.ok(took < 5000, `did not hang (${took} ms)`);
  } finally {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }
});

test('SIGTERM with a tunnel that finishes during the drain: exits 0 as soon as it is done', async () => {
  const { child } = await startProxyOn(allowing('first'), () => ['--drain-timeout', '20000']);
  try {
    const tunnel = await openTunnel(listenPort(child.stderr()), `first.test:${origin.port}`);
    const started = Date.now();
    child.process.kill('SIGTERM');
    await eventually(() => child.stderr().includes('draining'), 5000);
    // Still usable while draining.
    assert.match(await getOverTunnel(tunnel, 'first.test'), /200 OK/);
    tunnel.socket.end();
    assert.equal(await child.exited, 0);
    assert.ok(Date.now() - started < 5000);
  } finally {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }
});
