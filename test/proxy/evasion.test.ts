/**
 * The evasion suite: every known way of reaching a destination the policy denies, through the
 * HTTP forward path and CONNECT. Each case asserts the answer AND that the denied upstream (a
 * raw TCP server on 127.0.0.5 that counts connections) never saw a single connection or byte.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resolver } from '../../src/dataplane/net/resolver.js';
import { startOrigin, startProxy, type Origin, type TestProxy } from '../helpers/proxy-harness.js';
import {
  RawClient,
  startRawOrigin,
  tlsHandshakeError,
  type RawOrigin,
} from '../helpers/raw-socket.js';
import { curlStatus, run } from '../helpers/run.js';

/** allowed.test → 127.0.0.2 (allowed on purpose); everything on 127.0.0.5 must stay unreachable. */
const POLICY = `version: 1
name: evasion
mode: restrict
rules:
  - allow: [allowed.test, rebind.test, "127.0.0.2"]
  - allow: ["ports.test:8443"]
`;

async function rawExchange(port: number, request: string): Promise<string> {
  const client = await RawClient.open(port);
  client.send(Buffer.from(request, 'latin1'));
  await client.closed(5000).catch(() => undefined);
  const text = (await client.read(1 << 16, 100).catch(() => Buffer.alloc(0))).toString('latin1');
  client.close();
  return text;
}

describe('evasion suite', () => {
  let allowed: Origin;
  let victim: RawOrigin;
  let proxy: TestProxy;
  let answers: string[][];

  before(async () => {
    allowed = await startOrigin('127.0.0.2');
    victim = await startRawOrigin(
      '127.0.0.5',
      Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPWNED!'),
    );
    answers = [];
    const pins: Record<string, string[]> = {
      'allowed.test': ['127.0.0.2'],
      'denied.test': ['127.0.0.5'],
      'loopy.test': ['127.0.0.5'],
      'metadata.test': ['169.254.169.254'],
      'ports.test': ['127.0.0.5'],
    };
    // A resolver that answers rebind.test with the allowed address, then with the victim.
    const resolver: Resolver = {
      resolve: async (name) => {
        if (name === 'rebind.test') return answers.shift() ?? ['127.0.0.5'];
        const pinned = pins[name];
        if (!pinned) throw Object.assign(new Error(`${name} not pinned`), { code: 'dns_nxdomain' });
        return pinned;
      },
    };
    proxy = await startProxy(POLICY, { resolver, limits: { headersTimeoutMs: 600 } });
  });

  after(async () => {
    assert.equal(victim.connections, 0, 'the denied upstream never saw a connection');
    await proxy.close();
    await allowed.close();
    await victim.close();
  });

  const get = (url: string, extra: string[] = []) => curlStatus(proxy.url, url, extra);

  it('sanity: the allowed origin is reachable by name', async () => {
    const r = await get(`http://allowed.test:${allowed.port}/`);
    assert.equal(r.stdout, '200 ');
  });

  for (const spelling of [
    '127.0.0.5',
    '2130706437',
    '0x7f000005',
    '0177.0.0.5',
    '127.5',
    '0x7f.5',
    '0x7f.0.0.05',
    '017700000005',
    '127.0.0.5.',
  ]) {
    it(`IPv4 spelled ${spelling} is judged as 127.0.0.5 and denied`, async () => {
      const r = await get(`http://${spelling}:${victim.port}/`);
      assert.match(r.stdout, /^403 /, r.stderr);
      const c = await run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-x',
        proxy.url,
        '-p',
        `http://${spelling}:${victim.port}/`,
      ]);
      assert.notEqual(c.stdout, '200');
    });
  }

  for (const v6 of [
    '::ffff:127.0.0.5',
    '::ffff:7f00:5',
    '64:ff9b::7f00:5',
    '2002:7f00:5::1',
    '::127.0.0.5',
    '0:0:0:0:0:ffff:127.0.0.5',
  ]) {
    it(`IPv6 form [${v6}] carrying 127.0.0.5 is judged by that IPv4 and denied`, async () => {
      const text = await rawExchange(
        proxy.port,
        `CONNECT [${v6}]:${victim.port} HTTP/1.1\r\nHost: [${v6}]:${victim.port}\r\n\r\n`,
      );
      assert.match(text, /^HTTP\/1\.1 403 /);
      const forward = await rawExchange(
        proxy.port,
        `GET http://[${v6}]:${victim.port}/ HTTP/1.1\r\nHost: [${v6}]:${victim.port}\r\n\r\n`,
      );
      assert.match(forward, /^HTTP\/1\.1 403 /);
    });
  }

  it('an IPv4 literal allowed on purpose stays allowed in every spelling', async () => {
    for (const spelling of ['127.0.0.2', '2130706434', '0x7f.2', '127.2']) {
      const r = await get(`http://${spelling}:${allowed.port}/`);
      assert.equal(r.stdout, '200 ', spelling);
    }
  });

  it('DNS rebinding: the name is resolved once per connection and every answer is classified', async () => {
    answers.push(['127.0.0.2'], ['127.0.0.5'], ['127.0.0.5', '127.0.0.2']);
    assert.equal((await get(`http://rebind.test:${allowed.port}/`)).stdout, '200 ');
    const second = await get(`http://rebind.test:${victim.port}/`);
    assert.equal(second.stdout, '403 ip_class:loopback');
    // Of several answers, only one that passes classification is dialled.
    const third = await get(`http://rebind.test:${allowed.port}/`);
    assert.equal(third.stdout, '200 ');
  });

  it('an allowed name resolving to loopback or to the metadata address is denied by class', async () => {
    const proxy2 = await startProxy(
      'version: 1\nname: names\nmode: restrict\nrules:\n  - allow: [loopy.test, metadata.test]\n',
      {
        pins: { 'loopy.test': '127.0.0.5', 'metadata.test': '169.254.169.254' },
      },
    );
    try {
      const loop = await curlStatus(proxy2.url, `http://loopy.test:${victim.port}/`);
      assert.equal(loop.stdout, '403 ip_class:loopback');
      const meta = await curlStatus(proxy2.url, 'http://metadata.test/latest/meta-data/');
      assert.equal(meta.stdout, '403 ip_class:metadata');
      const literal = await curlStatus(proxy2.url, 'http://169.254.169.254/');
      assert.equal(literal.stdout, '403 default_deny');
    } finally {
      await proxy2.close();
    }
  });

  it('Host fronting: an allowed absolute URI with another Host header is refused', async () => {
    const r = await get(`http://allowed.test:${allowed.port}/`, [
      '-H',
      `Host: denied.test:${victim.port}`,
    ]);
    assert.equal(r.stdout, '403 host_mismatch');
    const port = await get(`http://allowed.test:${allowed.port}/`, [
      '-H',
      `Host: allowed.test:${victim.port}`,
    ]);
    assert.equal(port.stdout, '403 host_mismatch');
  });

  it('SNI fronting: a CONNECT to an allowed name carrying a denied SNI gets a TLS alert', async () => {
    const client = await RawClient.open(proxy.port);
    client.send(
      Buffer.from(
        `CONNECT allowed.test:${allowed.port} HTTP/1.1\r\nHost: allowed.test:${allowed.port}\r\n\r\n`,
      ),
    );
    const head = (await client.read(39)).toString();
    assert.match(head, /^HTTP\/1\.1 200/);
    const error = await tlsHandshakeError(client.socket, 'denied.test');
    assert.match(error.message, /access denied|alert/i);
    assert.equal(allowed.seen.filter((s) => s.url === '/sni').length, 0);
  });

  for (const [label, target] of [
    ['CR LF in the authority', 'allowed.test\r\nX: y'],
    ['NUL in the name', 'allowed.test\u0000.denied.test'],
    ['a space in the name', 'allowed.test .denied.test'],
    ['user info', 'x@denied.test'],
  ] as const) {
    it(`${label} never reaches anything`, async () => {
      const connectText = await rawExchange(
        proxy.port,
        `CONNECT ${target}:${victim.port} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      assert.doesNotMatch(connectText, /^HTTP\/1\.1 200/);
      assert.match(connectText, /^HTTP\/1\.1 (400|403) /);
      const getText = await rawExchange(
        proxy.port,
        `GET http://${target}:${victim.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      assert.doesNotMatch(getText, /^HTTP\/1\.1 200/);
    });
  }

  it('request smuggling (Content-Length with Transfer-Encoding) is rejected before forwarding', async () => {
    const before = allowed.seen.length;
    const smuggled = `GET http://denied.test:${victim.port}/ HTTP/1.1\r\nHost: denied.test:${victim.port}\r\n\r\n`;
    const body = `0\r\n\r\n${smuggled}`;
    const text = await rawExchange(
      proxy.port,
      `POST http://allowed.test:${allowed.port}/ HTTP/1.1\r\nHost: allowed.test:${allowed.port}\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
    );
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.equal(allowed.seen.length, before, 'nothing was forwarded');
    const obfuscated = await rawExchange(
      proxy.port,
      `POST http://allowed.test:${allowed.port}/ HTTP/1.1\r\nHost: allowed.test:${allowed.port}\r\nTransfer-Encoding: xchunked\r\nContent-Length: 3\r\n\r\nabc`,
    );
    assert.match(obfuscated, /^HTTP\/1\.1 400 /);
  });

  it('a port the policy does not allow is denied, on the forward path and through CONNECT', async () => {
    const r = await get(`http://ports.test:${victim.port}/`);
    assert.equal(r.stdout, '403 default_deny');
    const text = await rawExchange(
      proxy.port,
      `CONNECT ports.test:${victim.port} HTTP/1.1\r\nHost: ports.test\r\n\r\n`,
    );
    assert.match(text, /^HTTP\/1\.1 403 /);
  });

  it('slowloris: a request head that never completes is cut off with 408', async () => {
    const client = await RawClient.open(proxy.port);
    client.send(
      Buffer.from(`GET http://allowed.test:${allowed.port}/ HTTP/1.1\r\nHost: allowed.test\r\n`),
    );
    const started = Date.now();
    const timer = setInterval(
      () => client.socket.writable && client.send(Buffer.from('X-a: b\r\n')),
      100,
    );
    try {
      await client.closed(5000);
    } finally {
      clearInterval(timer);
    }
    const text = (await client.read(1 << 12, 100).catch(() => Buffer.alloc(0))).toString();
    assert.ok(Date.now() - started < 4000, 'closed soon after the head timeout');
    assert.match(text, /^HTTP\/1\.1 408 /);
  });
});
