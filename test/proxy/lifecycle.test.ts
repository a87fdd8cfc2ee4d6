/**
 * The lifecycle of each request, in order and once each (docs/events.md): request.opened, one
 * verdict, one terminal event, all with one requestId. Each case runs on a fresh proxy so that
 * its events are those of one request only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOrigin, startProxy, type Origin, type TestProxy } from '../helpers/proxy-harness.js';
import { expectLifecycle, toHost } from '../helpers/lifecycle.js';
import { RawClient, tlsHandshakeError } from '../helpers/raw-socket.js';
import { curlStatus } from '../helpers/run.js';

const POLICY = (mode: string) => `version: 1
name: lifecycle
mode: ${mode}
rules:
  - allow: [allowed.test, other-allowed.test, gone.test, "127.0.0.2", "127.0.0.9"]
`;

const PINS = {
  'allowed.test': '127.0.0.2',
  'other.test': '127.0.0.2',
  'other-allowed.test': '127.0.0.2',
  // Nothing listens on 127.0.0.9: the dial fails.
  'gone.test': '127.0.0.9',
};

describe('request lifecycle', () => {
  let origin: Origin;
  const proxies: TestProxy[] = [];
  const proxyFor = async (mode: string) => {
    const proxy = await startProxy(POLICY(mode), { pins: PINS });
    proxies.push(proxy);
    return proxy;
  };

  before(async () => {
    origin = await startOrigin('127.0.0.2');
  });
  after(async () => {
    for (const p of proxies) await p.close();
    await origin.close();
  });

  it('an allowed forward request: opened, allowed, closed', async () => {
    const proxy = await proxyFor('restrict');
    const r = await curlStatus(proxy.url, `http://allowed.test:${origin.port}/x`);
    assert.equal(r.stdout, '200 ');
    await expectLifecycle(proxy.events, toHost('allowed.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
  });

  it('a denied forward request: opened, denied', async () => {
    const proxy = await proxyFor('restrict');
    const r = await curlStatus(proxy.url, `http://denied.test:${origin.port}/x`);
    assert.equal(r.stdout, '403 default_deny');
    await expectLifecycle(proxy.events, toHost('denied.test'), [
      'request.opened',
      'request.denied',
    ]);
  });

  it('a name that does not resolve: opened, failed', async () => {
    const proxy = await startProxy(
      'version: 1\nname: dns\nmode: restrict\nrules:\n  - allow: [nowhere.test]\n',
    );
    proxies.push(proxy);
    const r = await curlStatus(proxy.url, `http://nowhere.test:${origin.port}/x`);
    assert.match(r.stdout, /^502 dns_/);
    await expectLifecycle(proxy.events, toHost('nowhere.test'), [
      'request.opened',
      'request.failed',
    ]);
  });

  it('an upstream that refuses the connection: opened, allowed, failed', async () => {
    const proxy = await proxyFor('restrict');
    const r = await curlStatus(proxy.url, `http://gone.test:${origin.port}/x`);
    assert.equal(r.stdout, '502 upstream_refused');
    await expectLifecycle(proxy.events, toHost('gone.test'), [
      'request.opened',
      'request.allowed',
      'request.failed',
    ]);
  });

  it('monitor mode, Host fronting: opened, one allowed (would deny host_mismatch), closed', async () => {
    const proxy = await proxyFor('monitor');
    const r = await curlStatus(proxy.url, `http://allowed.test:${origin.port}/x`, [
      '-H',
      `Host: other.test:${origin.port}`,
    ]);
    assert.equal(r.stdout, '200 ');
    const events = await expectLifecycle(proxy.events, toHost('allowed.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
    const allowed = events.find((e) => e.type === 'request.allowed')!;
    assert.equal(allowed.reason, 'host_mismatch');
    assert.equal(allowed.wouldDeny, true);
  });

  it('restrict mode, Host fronting: opened, denied (host_mismatch)', async () => {
    const proxy = await proxyFor('restrict');
    const r = await curlStatus(proxy.url, `http://allowed.test:${origin.port}/x`, [
      '-H',
      `Host: other.test:${origin.port}`,
    ]);
    assert.equal(r.stdout, '403 host_mismatch');
    const events = await expectLifecycle(proxy.events, toHost('allowed.test'), [
      'request.opened',
      'request.denied',
    ]);
    assert.equal(events.at(-1)!.reason, 'host_mismatch');
  });

  it('CONNECT, then a ClientHello naming a denied server: opened, denied (sni_mismatch)', async () => {
    const proxy = await proxyFor('restrict');
    const client = await RawClient.open(proxy.port);
    client.send(Buffer.from(`CONNECT allowed.test:${origin.port} HTTP/1.1\r\n\r\n`));
    assert.match((await client.read(39)).toString(), /^HTTP\/1\.1 200/);
    const error = await tlsHandshakeError(client.socket, 'other.test');
    assert.match(error.message, /access denied|alert/i);
    const events = await expectLifecycle(proxy.events, toHost('allowed.test'), [
      'request.opened',
      'request.denied',
    ]);
    assert.equal(events.at(-1)!.reason, 'sni_mismatch');
    client.close();
  });

  it('CONNECT with an allowed tunnel: opened, allowed, closed', async () => {
    const proxy = await proxyFor('restrict');
    const client = await RawClient.open(proxy.port);
    client.send(
      Buffer.from(
        `CONNECT allowed.test:${origin.port} HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n`,
      ),
    );
    await client.closed(5000);
    await expectLifecycle(proxy.events, toHost('allowed.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
  });
});
