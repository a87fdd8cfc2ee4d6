/**
 * The CONNECT fast path (protocols/connect-head.ts): plainly well-formed heads that arrive
 * whole skip node:http; everything else goes to node:http as before. The unit table pins what
 * the fast path takes; the socket cases check that both paths answer the same way and that
 * bytes sent with the head reach the tunnel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConnectHead } from '../../src/dataplane/protocols/connect-head.js';
import { startProxy, type TestProxy } from '../helpers/proxy-harness.js';
import { RawClient, startRawOrigin, type RawOrigin } from '../helpers/raw-socket.js';

const head = (text: string) => Buffer.from(text, 'latin1');

describe('parseConnectHead', () => {
  it('takes a plain CONNECT head, with its credentials and the bytes that follow it', () => {
    const text = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n';
    assert.deepEqual(parseConnectHead(head(text + 'TLS'), 16384), {
      kind: 'connect',
      target: 'example.com:443',
      proxyAuthorization: undefined,
      headLength: text.length,
    });
    const auth = parseConnectHead(
      head('CONNECT [::1]:22 HTTP/1.0\r\nproxy-authorization:  Basic d3M6dA== \r\n\r\n'),
      16384,
    );
    assert.equal(auth.kind, 'connect');
    assert.equal(auth.kind === 'connect' && auth.proxyAuthorization, 'Basic d3M6dA==');
    assert.equal(auth.kind === 'connect' && auth.target, '[::1]:22');
  });

  const others: Array<[string, string]> = [
    ['another method', 'GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a lower-case method', 'connect x:443 HTTP/1.1\r\n\r\n'],
    ['an incomplete head', 'CONNECT x:443 HTTP/1.1\r\nHost: x\r\n'],
    ['bare LF line ends', 'CONNECT x:443 HTTP/1.1\nHost: x\n\n'],
    ['a bare LF inside a header', 'CONNECT x:443 HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n'],
    ['a bare CR inside a header', 'CONNECT x:443 HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n'],
    ['a NUL in a header value', 'CONNECT x:443 HTTP/1.1\r\nHost: x\u0000y\r\n\r\n'],
    ['obs-fold', 'CONNECT x:443 HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n'],
    ['a space before the colon', 'CONNECT x:443 HTTP/1.1\r\nHost : x\r\n\r\n'],
    ['a header without a colon', 'CONNECT x:443 HTTP/1.1\r\nHost\r\n\r\n'],
    ['obs-text in a value', 'CONNECT x:443 HTTP/1.1\r\nX-A: caf\u00e9\r\n\r\n'],
    ['HTTP/2.0', 'CONNECT x:443 HTTP/2.0\r\n\r\n'],
    ['two spaces', 'CONNECT  x:443 HTTP/1.1\r\n\r\n'],
    ['user info in the target', 'CONNECT u@x:443 HTTP/1.1\r\n\r\n'],
    ['a path in the target', 'CONNECT x:443/p HTTP/1.1\r\n\r\n'],
    ['a NUL in the target', 'CONNECT x\u0000y:443 HTTP/1.1\r\n\r\n'],
    ['Content-Length', 'CONNECT x:443 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc'],
    ['Transfer-Encoding', 'CONNECT x:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'],
    [
      'two Proxy-Authorization headers',
      'CONNECT x:443 HTTP/1.1\r\nProxy-Authorization: Basic YTpi\r\nProxy-Authorization: Basic Yzpk\r\n\r\n',
    ],
    ['too many headers', `CONNECT x:443 HTTP/1.1\r\n${'X-A: b\r\n'.repeat(65)}\r\n`],
  ];
  for (const [label, text] of others)
    it(`leaves ${label} to node:http`, () => {
      assert.deepEqual(parseConnectHead(head(text), 16384), { kind: 'other' });
    });

  it('leaves a head longer than the limit to node:http (which answers 431)', () => {
    const text = `CONNECT x:443 HTTP/1.1\r\nX-Pad: ${'a'.repeat(200)}\r\n\r\n`;
    assert.equal(parseConnectHead(head(text), 1000).kind, 'connect');
    assert.deepEqual(parseConnectHead(head(text), 100), { kind: 'other' });
  });
});

describe('CONNECT heads on real sockets: the fast path and node:http agree', () => {
  let origin: RawOrigin;
  let proxy: TestProxy;

  before(async () => {
    origin = await startRawOrigin('127.0.0.2', Buffer.from('hello from origin\n'));
    proxy = await startProxy(
      `version: 1\nname: connect-heads\nmode: restrict\nrules:\n  - allow: [allowed.test, "127.0.0.2"]\n`,
      { pins: { 'allowed.test': '127.0.0.2', 'denied.test': '127.0.0.2' } },
    );
  });

  after(async () => {
    await proxy.close();
    await origin.close();
  });

  async function answer(pieces: string[]): Promise<{ text: string; client: RawClient }> {
    const client = await RawClient.open(proxy.port);
    for (const piece of pieces) {
      client.send(head(piece));
      await new Promise((r) => setTimeout(r, 30));
    }
    const text = (await client.read(12, 3000)).toString('latin1');
    return { text, client };
  }

  it('tunnel bytes sent in the same packet as the head reach the origin', async () => {
    const before = origin.received.length;
    const { text, client } = await answer([
      `CONNECT allowed.test:${origin.port} HTTP/1.1\r\nHost: allowed.test\r\n\r\nEARLY BYTES`,
    ]);
    assert.equal(text, 'HTTP/1.1 200');
    const rest = (await client.read(27 + 18)).toString('latin1');
    assert.match(rest, /hello from origin\n$/);
    const deadline = Date.now() + 2000;
    while (Buffer.concat(origin.received.slice(before)).length < 11 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(Buffer.concat(origin.received.slice(before)).toString('latin1'), 'EARLY BYTES');
    client.close();
  });

  it('a head split across packets (node:http) is admitted like a whole one (fast path)', async () => {
    const target = `allowed.test:${origin.port}`;
    const whole = await answer([`CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    const split = await answer([`CONNECT ${target} HT`, `TP/1.1\r\nHost: x\r\n`, '\r\n']);
    assert.equal(whole.text, 'HTTP/1.1 200');
    assert.equal(split.text, 'HTTP/1.1 200');
    whole.client.close();
    split.client.close();
  });

  it('a denied name gets the same 403 on either path', async () => {
    const target = `denied.test:${origin.port}`;
    const whole = await answer([`CONNECT ${target} HTTP/1.1\r\n\r\n`]);
    const split = await answer([`CONNECT ${target} HTTP/1.1\r\n`, '\r\n']);
    assert.equal(whole.text, 'HTTP/1.1 403');
    assert.equal(split.text, 'HTTP/1.1 403');
    whole.client.close();
    split.client.close();
  });

  it('heads the fast path leaves alone get node:http answers: 400 for a bare LF, 431 when too long', async () => {
    const target = `allowed.test:${origin.port}`;
    const lf = await answer([`CONNECT ${target} HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n`]);
    assert.equal(lf.text, 'HTTP/1.1 400');
    lf.client.close();
    const long = await answer([
      `CONNECT ${target} HTTP/1.1\r\nX-Pad: ${'a'.repeat(40_000)}\r\n\r\n`,
    ]);
    assert.equal(long.text, 'HTTP/1.1 431');
    long.client.close();
  });
});
