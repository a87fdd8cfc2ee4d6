import { strict as assert } from 'node:assert';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  connect as tlsConnect,
  createServer as createTlsServer,
  type Server as TlsServer,
} from 'node:tls';
import {
  TransparentListener,
  parseTransparentListen,
} from '../../src/dataplane/proxy/transparent.js';
import { parseHttpHead } from '../../src/dataplane/protocols/http-head.js';
import type { AuditEvent } from '../../src/protocol/audit-event.js';
import {
  eventually,
  startOrigin,
  startProxy,
  type Origin,
  type TestProxy,
} from '../helpers/proxy-harness.js';
import { expectLifecycle, toHost } from '../helpers/lifecycle.js';
import { RawClient } from '../helpers/raw-socket.js';
import { curl } from '../helpers/run.js';
import { makeTestCa, type TestLeaf } from '../helpers/test-tls.js';

const POLICY = `
version: 1
name: transparent-test
mode: restrict
rules:
  - allow: [allowed.test, "127.0.0.2"]
default: deny
`;

const PINS = { 'allowed.test': '127.0.0.2', 'denied.test': '127.0.0.2' };

interface SniEchoOrigin {
  port: number;
  /** TCP connections accepted (before any TLS). */
  connections: number;
  close(): Promise<void>;
}

/** A raw TLS server on 127.0.0.2 that answers each connection with the SNI name it saw. */
async function startSniEchoOrigin(leaf: TestLeaf): Promise<SniEchoOrigin> {
  const sockets = new Set<Socket>();
  const server: TlsServer = createTlsServer({ key: leaf.keyPem, cert: leaf.certPem }, (tls) => {
    tls.on('error', () => tls.destroy());
    tls.end(`hello ${tls.servername}\n`);
  });
  const origin: SniEchoOrigin = { port: 0, connections: 0, close: async () => {} };
  server.on('connection', (s: Socket) => {
    origin.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  origin.port = (server.address() as AddressInfo).port;
  origin.close = () =>
    new Promise<void>((resolve) => {
      sockets.forEach((s) => s.destroy());
      server.close(() => resolve());
    });
  return origin;
}

/** Connects with TLS to the transparent port; resolves with what the origin said, or the error. */
function tlsThrough(
  port: number,
  servername: string | undefined,
  ca: string,
): Promise<string | Error> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      ca,
      ...(servername ? { servername } : {}),
    });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', resolve);
  });
}

const denials = (events: AuditEvent[]) => events.filter((e) => e.type === 'request.denied');

describe('transparent listener: TLS by SNI', () => {
  let caPem: string;
  let origin: SniEchoOrigin;
  let proxy: TestProxy;
  let mapped: TransparentListener;
  let unmapped: TransparentListener;

  before(async () => {
    const ca = await makeTestCa();
    caPem = ca.certPem;
    origin = await startSniEchoOrigin(await ca.issue(['allowed.test', 'denied.test']));
    proxy = await startProxy(POLICY, { pins: PINS });
    // As if `REDIRECT` sent the origin's port to this listener: "treat as original port N".
    mapped = new TransparentListener(proxy.proxy.context, '127.0.0.1', 0, origin.port);
    unmapped = new TransparentListener(proxy.proxy.context, '127.0.0.1', 0);
    proxy.proxy.attach(mapped);
    proxy.proxy.attach(unmapped);
    await mapped.start();
    await unmapped.start();
  });
  after(async () => {
    await proxy.close();
    await origin.close();
  });

  it('an allowed server name reaches the TLS origin, end to end (the certificate verifies)', async () => {
    const said = await tlsThrough(mapped.address!.port, 'allowed.test', caPem);
    assert.equal(said, 'hello allowed.test\n');
    await eventually(() => proxy.events.some((e) => e.type === 'request.closed'));
    const allowed = proxy.events.find((e) => e.type === 'request.allowed');
    assert.deepEqual(
      {
        host: allowed?.destination?.host,
        ip: allowed?.destination?.ip,
        port: allowed?.destination?.port,
      },
      { host: 'allowed.test', ip: '127.0.0.2', port: origin.port },
    );
    assert.equal(allowed?.destination?.scheme, 'https');
    await expectLifecycle(proxy.events, toHost('allowed.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
  });

  it('a denied server name gets a TLS access_denied alert and the origin never sees a connection', async () => {
    const before = origin.connections;
    const result = await tlsThrough(mapped.address!.port, 'denied.test', caPem);
    assert.ok(result instanceof Error);
    assert.match(result.message, /access denied/i);
    assert.equal(origin.connections, before);
    assert.equal(denials(proxy.events).at(-1)?.destination?.host, 'denied.test');
    await expectLifecycle(proxy.events, toHost('denied.test'), [
      'request.opened',
      'request.denied',
    ]);
  });

  it('no server name: denied with no_destination_name', async () => {
    const before = origin.connections;
    // Node sends no SNI when connecting to an IP address without a servername.
    const result = await tlsThrough(mapped.address!.port, undefined, caPem);
    assert.ok(result instanceof Error);
    assert.equal(origin.connections, before);
    const last = denials(proxy.events).at(-1);
    assert.equal(last?.reason, 'no_destination_name');
    assert.match(last?.description ?? '', /names no destination/);
  });

  it('without a port mapping, TLS means port 443', async () => {
    await tlsThrough(unmapped.address!.port, 'allowed.test', caPem);
    await eventually(() => proxy.events.some((e) => e.type === 'request.failed'));
    const failed = proxy.events.find((e) => e.type === 'request.failed');
    assert.equal(failed?.destination?.port, 443);
    assert.equal(failed?.reason, 'upstream_refused');
  });
});

describe('transparent listener: plain HTTP by Host header', () => {
  let origin: Origin;
  let proxy: TestProxy;
  let listener: TransparentListener;
  let mapped: TransparentListener;

  before(async () => {
    origin = await startOrigin('127.0.0.2');
    proxy = await startProxy(POLICY, { pins: PINS });
    listener = new TransparentListener(proxy.proxy.context, '127.0.0.1', 0);
    mapped = new TransparentListener(proxy.proxy.context, '127.0.0.1', 0, origin.port);
    proxy.proxy.attach(listener);
    proxy.proxy.attach(mapped);
    await listener.start();
    await mapped.start();
  });
  after(async () => {
    await proxy.close();
    await origin.close();
  });

  it('curl redirected to the listener reaches the Host it names (the Host port is the port)', async () => {
    const r = await curl([
      '--connect-to',
      `allowed.test:${origin.port}:127.0.0.1:${listener.address!.port}`,
      `http://allowed.test:${origin.port}/through`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /origin GET \/through/);
    assert.equal(origin.seen.at(-1)?.host, `allowed.test:${origin.port}`);
    await expectLifecycle(proxy.events, toHost('allowed.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
  });

  it('a mapped listener uses its original port when the Host header has none', async () => {
    const client = await RawClient.open(mapped.address!.port);
    client.send(
      Buffer.from('GET /mapped HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n'),
    );
    await client.closed();
    assert.ok(origin.seen.some((s) => s.url === '/mapped'));
  });

  it('a denied Host gets the standard 403 and the origin sees nothing', async () => {
    const before = origin.seen.length;
    const r = await curl([
      '--connect-to',
      `denied.test:${origin.port}:127.0.0.1:${listener.address!.port}`,
      '-D',
      '-',
      `http://denied.test:${origin.port}/`,
    ]);
    assert.match(r.stdout, /^HTTP\/1.1 403/);
    assert.match(r.stdout, /X-Egress-Reason: default_deny/i);
    assert.match(r.stdout, /egress denied this connection/);
    assert.equal(origin.seen.length, before);
  });

  it('a request without Host is denied with no_destination_name', async () => {
    const client = await RawClient.open(listener.address!.port);
    client.send(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    await client.closed();
    const text = (await client.read(4096)).toString();
    assert.match(text, /^HTTP\/1.1 403/);
    assert.match(text, /X-Egress-Reason: no_destination_name/);
    assert.equal(denials(proxy.events).at(-1)?.reason, 'no_destination_name');
  });
});

describe('transparent helpers', () => {
  it('parseTransparentListen reads HOST:PORT[=ORIGINAL]', () => {
    assert.deepEqual(parseTransparentListen('127.0.0.1:15001=443'), {
      host: '127.0.0.1',
      port: 15001,
      originalPort: 443,
    });
    assert.deepEqual(parseTransparentListen('[::1]:15002'), { host: '::1', port: 15002 });
    assert.equal(parseTransparentListen('127.0.0.1:15001=0'), undefined);
    assert.equal(parseTransparentListen('127.0.0.1'), undefined);
  });

  it('parseHttpHead finds Host, refuses two of them, and tells TLS from HTTP', () => {
    const head = parseHttpHead(Buffer.from('GET / HTTP/1.1\r\nhOsT: a.test:8080\r\n\r\n'));
    assert.equal(head.kind === 'request' && head.host, 'a.test:8080');
    assert.equal(
      parseHttpHead(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')).kind,
      'malformed',
    );
    assert.equal(parseHttpHead(Buffer.from('GET / HTTP/1.1\r\nHost: a')).kind, 'need-more');
    assert.equal(parseHttpHead(Buffer.from([0x16, 0x03, 0x01])).kind, 'not-http');
  });
});
