/**
 * Upgrades through the forward proxy (WebSocket-style: `GET http://host/ws` with `Upgrade`):
 * allowed ones switch protocols and carry bytes both ways, denied ones get the 403, and a
 * destination the policy sends through the parent proxy is reached through it, never dialled
 * directly.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseParentProxy } from '../../src/dataplane/net/parent-proxy.js';
import { expectLifecycle, toHost } from '../helpers/lifecycle.js';
import { eventually, startProxy, type TestProxy } from '../helpers/proxy-harness.js';

/** An origin that accepts every upgrade (101) and then echoes what it gets, upper-cased. */
async function startUpgradeOrigin(): Promise<{ server: Server; port: number; upgrades: string[] }> {
  const upgrades: string[] = [];
  const server = createServer((_req, res) => res.end('plain\n'));
  server.on('upgrade', (req, socket: Socket) => {
    upgrades.push(`${req.headers.host} ${req.url}`);
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
    // The client's end ends the conversation (node's HTTP sockets are half-open).
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.2');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, upgrades };
}

/** Sends an upgrade request through the proxy; resolves with the head and a way to talk. */
async function upgrade(
  proxyPort: number,
  url: string,
): Promise<{ head: string; socket: Socket; say: (text: string) => Promise<string> }> {
  const socket = connect(proxyPort, '127.0.0.1');
  await once(socket, 'connect');
  const host = new URL(url).host;
  socket.write(
    `GET ${url} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
  );
  let buffered = '';
  socket.on('data', (d: Buffer) => (buffered += d.toString()));
  await eventually(() => buffered.includes('\r\n\r\n'), 5000);
  const end = buffered.indexOf('\r\n\r\n') + 4;
  const head = buffered.slice(0, end);
  buffered = buffered.slice(end);
  const say = async (text: string) => {
    buffered = '';
    socket.write(text);
    await eventually(() => buffered.length >= text.length, 5000);
    return buffered;
  };
  return { head, socket, say };
}

describe('upgrades through the forward proxy', () => {
  let origin: Awaited<ReturnType<typeof startUpgradeOrigin>>;
  before(async () => {
    origin = await startUpgradeOrigin();
  });
  after(() => origin.server.close());

  it('an allowed upgrade switches protocols and relays both ways; a denied one gets 403', async () => {
    const proxy = await startProxy(
      'version: 1\nname: ws\nmode: restrict\nrules:\n  - allow: [ws.test, "127.0.0.2"]\n',
      { pins: { 'ws.test': '127.0.0.2', 'other.test': '127.0.0.2' } },
    );
    try {
      const ok = await upgrade(proxy.port, `http://ws.test:${origin.port}/chat`);
      assert.match(ok.head, /^HTTP\/1\.1 101 /);
      assert.equal(await ok.say('hello'), 'HELLO');
      ok.socket.end();
      await eventually(() =>
        proxy.events.some((e) => e.type === 'request.closed' && e.http?.path === '/chat'),
      );
      await expectLifecycle(proxy.events, toHost('ws.test'), [
        'request.opened',
        'request.allowed',
        'request.closed',
      ]);
      const denied = await upgrade(proxy.port, `http://other.test:${origin.port}/chat`);
      assert.match(denied.head, /^HTTP\/1\.1 403 /);
      assert.match(denied.head, /X-Egress-Decision: deny/i);
      denied.socket.destroy();
      await expectLifecycle(proxy.events, toHost('other.test'), [
        'request.opened',
        'request.denied',
      ]);
      assert.deepEqual(origin.upgrades, [`ws.test:${origin.port} /chat`]);
    } finally {
      await proxy.close();
    }
  });

  it('a viaUpstreamProxy destination is upgraded through the parent, not dialled directly', async () => {
    const parent: TestProxy = await startProxy(
      'version: 1\nname: parent\nmode: restrict\nrules:\n  - allow: [custom.test, "127.0.0.2"]\n',
      { pins: { 'custom.test': '127.0.0.2' } },
    );
    // The child has no address for custom.test: only the parent can reach it.
    const child = await startProxy(
      'version: 1\nname: child\nmode: restrict\nrules:\n  - allow: [custom.test]\nviaUpstreamProxy: [custom.test]\n',
      { parentProxy: parseParentProxy(parent.url) },
    );
    try {
      const ws = await upgrade(child.port, `http://custom.test:${origin.port}/via-parent`);
      assert.match(ws.head, /^HTTP\/1\.1 101 /);
      assert.equal(await ws.say('through'), 'THROUGH');
      ws.socket.end();
      assert.ok(
        parent.events.some(
          (e) => e.type === 'request.allowed' && e.destination?.host === 'custom.test',
        ),
        'the parent decided it',
      );
      await expectLifecycle(child.events, toHost('custom.test'), [
        'request.opened',
        'request.allowed',
        'request.closed',
      ]);
    } finally {
      await child.close();
      await parent.close();
    }
  });
});
