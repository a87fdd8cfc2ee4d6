/**
 * Bytes through a CONNECT tunnel arrive exactly, in order, when the client reads slowly (the
 * upstream socket reads into one reused buffer and must not read again before a pending write
 * to the client is flushed) and when the server speaks first (reads buffered before the relay),
 * and request.closed counts all of them.
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, startProxy, type TestProxy } from '../helpers/proxy-harness.js';

const POLICY = `version: 1
name: integrity
mode: restrict
rules:
  - allow: [bulk.test, "127.0.0.2"]
`;

const TOTAL = 24 * 1024 * 1024;

/** Sends TOTAL random bytes (after `banner`, if any) and closes; resolves with their sha256. */
function startSender(banner: Buffer | null): { server: Server; digest: Promise<string> } {
  let resolveDigest: (d: string) => void = () => {};
  const digest = new Promise<string>((r) => (resolveDigest = r));
  const server = createServer((socket) => {
    const hash = createHash('sha256');
    const send = () => {
      let sent = 0;
      const more = () => {
        while (sent < TOTAL) {
          const chunk = randomBytes(Math.min(300_000, TOTAL - sent));
          hash.update(chunk);
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', more);
        }
        socket.end();
        resolveDigest(hash.digest('hex'));
      };
      more();
    };
    socket.on('error', () => {});
    if (banner) {
      // Server first: the banner and a first megabyte before the client has said anything.
      hash.update(banner);
      socket.write(banner);
      const early = randomBytes(1024 * 1024);
      hash.update(early);
      socket.write(early);
    }
    socket.once('data', send);
  });
  return { server, digest };
}

/** Opens a CONNECT tunnel, says hello, reads everything slowly; resolves with the sha256. */
async function receiveSlowly(
  proxyPort: number,
  target: string,
): Promise<{ digest: string; bytes: number }> {
  const socket: Socket = connect(proxyPort, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  let established = false;
  let bytes = 0;
  let sinceBreak = 0;
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      if (!established) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        assert.match(head.subarray(0, end).toString(), /^HTTP\/1\.1 200/);
        established = true;
        chunk = head.subarray(end + 4);
        socket.write('hello');
      }
      hash.update(chunk);
      bytes += chunk.length;
      sinceBreak += chunk.length;
      // A slow reader: the proxy's writes to it back up, again and again.
      if (sinceBreak >= 2 * 1024 * 1024) {
        sinceBreak = 0;
        socket.pause();
        setTimeout(() => socket.resume(), 15);
      }
    });
    socket.on('end', () => resolve({ digest: hash.digest('hex'), bytes }));
  });
}

describe('tunnel byte integrity', () => {
  let proxy: TestProxy;
  before(async () => {
    proxy = await startProxy(POLICY, { pins: { 'bulk.test': '127.0.0.2' } });
  });
  after(() => proxy.close());

  for (const [name, banner] of [
    ['client speaks first, slow reader', null],
    [
      'server speaks first (a banner and a megabyte before the client)',
      Buffer.from('SSH-2.0-test\r\n'),
    ],
  ] as const) {
    it(name, async () => {
      const sender = startSender(banner);
      sender.server.listen(0, '127.0.0.2');
      await once(sender.server, 'listening');
      try {
        const { port } = sender.server.address() as AddressInfo;
        const got = await receiveSlowly(proxy.port, `bulk.test:${port}`);
        const sent = await sender.digest;
        assert.equal(got.bytes, TOTAL + (banner ? banner.length + 1024 * 1024 : 0));
        assert.equal(got.digest, sent, 'the same bytes in the same order');
        const closedEvent = () =>
          proxy.events.find((e) => e.type === 'request.closed' && e.destination?.port === port);
        await eventually(() => closedEvent() !== undefined);
        assert.equal(closedEvent()!.bytesIn, got.bytes, 'request.closed counts every byte');
      } finally {
        sender.server.close();
      }
    });
  }
});
