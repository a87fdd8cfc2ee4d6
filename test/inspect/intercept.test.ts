/**
 * Inspect mode end to end: real TLS on loopback, curl and Node fetch (undici ProxyAgent)
 * trusting the exported egress CA, an HTTPS origin whose certificate comes from a test CA that
 * the proxy is told to trust with `upstreamCa`.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import type { Socket } from 'node:net';
import { fetch, ProxyAgent } from 'undici';
import { CertificateAuthority } from '../../src/dataplane/inspect/certificate-authority.js';
import type { InspectedHttp } from '../../src/dataplane/inspect/capture.js';
import {
  eventually,
  startOrigin,
  startProxy,
  type Origin,
  type TestProxy,
} from '../helpers/proxy-harness.js';
import { expectLifecycle, toHost } from '../helpers/lifecycle.js';
import { tlsHandshakeError } from '../helpers/raw-socket.js';
import { curl } from '../helpers/run.js';
import {
  makeTestCa,
  startTlsOrigin,
  tempDir,
  type TestCa,
  type TlsOrigin,
} from '../helpers/test-tls.js';

const POLICY = `
version: 1
name: inspect-test
mode: inspect
default: deny
rules:
  - allow: [secure.test, untrusted.test, plain.test, other.test, "127.0.0.2", "127.0.0.3", "127.0.0.4"]
redact:
  - "tok_[A-Za-z0-9]+"
  - "hunter2"
maxBodyCapture: 64
`;

const SECRETS = ['tok_abcdef123', 'hunter2', 'Bearer-sekret-value', 's3cr3t-cookie'];

describe('inspect mode: TLS interception', () => {
  let testCa: TestCa;
  let otherCa: TestCa;
  let origin: TlsOrigin;
  let untrusted: TlsOrigin;
  let plain: Origin;
  let proxy: TestProxy;
  let stateDir: string;
  let egressCaFile: string;

  before(async () => {
    testCa = await makeTestCa('origin-ca');
    otherCa = await makeTestCa('stranger-ca');
    origin = await startTlsOrigin(testCa, 'secure.test', '127.0.0.3', (req, res, body) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(1000));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'sid=s3cr3t-cookie' });
      res.end(JSON.stringify({ echoed: body, token: 'tok_abcdef123' }));
    });
    untrusted = await startTlsOrigin(otherCa, 'untrusted.test', '127.0.0.4');
    plain = await startOrigin('127.0.0.2');
    stateDir = tempDir('egress-state-');
    proxy = await startProxy(POLICY, {
      pins: {
        'secure.test': '127.0.0.3',
        'untrusted.test': '127.0.0.4',
        'plain.test': '127.0.0.2',
        'other.test': '127.0.0.3',
      },
      inspect: { stateDir, upstreamCa: [testCa.certFile] },
    });
    const ca = await CertificateAuthority.open(stateDir, 'test-ws');
    egressCaFile = join(stateDir, 'exported.pem');
    writeFileSync(egressCaFile, ca.certificatePem);
  });

  after(async () => {
    await proxy.close();
    await Promise.all([origin.close(), untrusted.close(), plain.close()]);
  });

  const exchanges = () => proxy.events.filter((e) => e.type === 'inspect.exchange');
  const lastHttp = () => exchanges().at(-1)!.http as unknown as InspectedHttp;

  it('curl: intercepts, relays, and records a redacted exchange', async () => {
    const before = exchanges().length;
    const url = `https://secure.test:${origin.port}/api/items?key=tok_abcdef123`;
    const r = await curl([
      '--cacert',
      egressCaFile,
      '-x',
      proxy.url,
      '-H',
      'Authorization: Bearer-sekret-value',
      '-H',
      'X-Api-Key: tok_abcdef123',
      '--data-binary',
      'user=alice&password=hunter2',
      url,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      echoed: 'user=alice&password=hunter2',
      token: 'tok_abcdef123',
    });
    // The origin saw the real request, secrets included: redaction is for the record only.
    assert.equal(origin.seen.at(-1)!.headers.authorization, 'Bearer-sekret-value');

    await eventually(() => exchanges().length > before);
    const event = exchanges().at(-1)!;
    assert.equal(event.workspace, 'test-ws');
    assert.equal(event.mode, 'inspect');
    assert.deepEqual(event.destination, {
      host: 'secure.test',
      ip: '127.0.0.3',
      port: origin.port,
      transport: 'tcp',
      scheme: 'https',
    });
    const http = lastHttp();
    assert.equal(http.method, 'POST');
    assert.equal(http.status, 200);
    assert.equal(http.url, `https://secure.test:${origin.port}/api/items?key=[REDACTED]`);
    assert.equal(http.request.headers.authorization, '[REDACTED]');
    assert.equal(http.request.headers['x-api-key'], '[REDACTED]');
    assert.equal(http.request.body.text, 'user=alice&password=[REDACTED]');
    assert.equal((http.response!.headers['set-cookie'] as string[])[0], '[REDACTED]');
    assert.equal(
      http.response!.body.text,
      '{"echoed":"user=alice&password=[REDACTED]","token":"[REDACTED]"}',
    );
    const serialised = JSON.stringify(event);
    for (const secret of SECRETS)
      assert.ok(!serialised.includes(secret), `event contains ${secret}`);

    // And the audit log on disk never saw them either.
    await eventually(() => readFileSync(proxy.auditPath, 'utf8').includes('inspect.exchange'));
    const onDisk = readFileSync(proxy.auditPath, 'utf8');
    for (const secret of SECRETS)
      assert.ok(!onDisk.includes(secret), `audit log contains ${secret}`);
    // The exchange is a step of the tunnel's request: the same requestId, between its events.
    const steps = await expectLifecycle(proxy.events, toHost('secure.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
    assert.deepEqual(
      steps.map((e) => e.type),
      ['request.opened', 'request.allowed', 'inspect.exchange', 'request.closed'],
    );
  });

  it('Node fetch through undici ProxyAgent trusting the egress CA; body capture is bounded', async () => {
    const dispatcher = new ProxyAgent({
      uri: proxy.url,
      requestTls: { ca: readFileSync(egressCaFile, 'utf8') },
    });
    try {
      const before = exchanges().length;
      const res = await fetch(`https://secure.test:${origin.port}/big`, { dispatcher });
      assert.equal(res.status, 200);
      assert.equal((await res.text()).length, 1000);
      await eventually(() => exchanges().length > before);
      const http = lastHttp();
      assert.equal(http.method, 'GET');
      assert.equal(http.path, '/big');
      assert.equal(http.response!.body.bytes, 1000);
      assert.equal(http.response!.body.truncated, true);
      assert.equal(http.response!.body.text, 'x'.repeat(64));
    } finally {
      await dispatcher.close();
    }
  });

  it('keeps one tunnel alive across several exchanges', async () => {
    const before = exchanges().length;
    const r = await curl([
      '--cacert',
      egressCaFile,
      '-x',
      proxy.url,
      `https://secure.test:${origin.port}/one`,
      `https://secure.test:${origin.port}/two`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    await eventually(() => exchanges().length >= before + 2);
    assert.deepEqual(
      exchanges()
        .slice(before)
        .map((e) => e.http?.path),
      ['/one', '/two'],
    );
    const steps = await expectLifecycle(proxy.events, toHost('secure.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
    assert.equal(steps.filter((e) => e.type === 'inspect.exchange').length, 2);
  });

  it('an upstream certificate that does not verify: 502 inside the tunnel and an event', async () => {
    const r = await curl([
      '--cacert',
      egressCaFile,
      '-x',
      proxy.url,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `https://untrusted.test:${untrusted.port}/`,
    ]);
    assert.equal(r.stdout, '502', r.stderr);
    assert.equal(untrusted.seen.length, 0);
    await eventually(() =>
      proxy.events.some((e) => e.type === 'request.failed' && e.reason === 'upstream_tls_invalid'),
    );
    const failed = proxy.events.find((e) => e.reason === 'upstream_tls_invalid')!;
    assert.equal(failed.destination?.host, 'untrusted.test');
    assert.match(failed.description, /not trusted/);
    await expectLifecycle(proxy.events, toHost('untrusted.test'), [
      'request.opened',
      'request.allowed',
      'request.failed',
    ]);
  });

  it('refuses SNI fronting: a ClientHello naming a host the policy does not allow', async () => {
    const socket = await connectTunnel(proxy.port, `secure.test:${origin.port}`);
    const err = await tlsHandshakeError(socket, 'evil.example', readFileSync(egressCaFile, 'utf8'));
    assert.match(err.message, /access denied|alert|ECONNRESET|socket/i);
    await eventually(() =>
      proxy.events.some((e) => e.type === 'request.denied' && e.reason === 'sni_mismatch'),
    );
    await expectLifecycle(proxy.events, toHost('secure.test'), [
      'request.opened',
      'request.denied',
    ]);
  });

  it('an allowed SNI other than the CONNECT host gets a leaf for the SNI name', async () => {
    const socket = await connectTunnel(proxy.port, `secure.test:${origin.port}`);
    const subject = await new Promise<string>((resolve, reject) => {
      const tls = tlsConnect({
        socket,
        servername: 'other.test',
        ca: readFileSync(egressCaFile, 'utf8'),
      });
      tls.on('secureConnect', () => {
        resolve(tls.getPeerCertificate().subjectaltname ?? '');
        tls.destroy();
      });
      tls.on('error', reject);
    });
    assert.equal(subject, 'DNS:other.test');
  });

  it('a client that does not trust the egress CA fails the handshake, and that is recorded', async () => {
    const r = await curl(['-x', proxy.url, `https://secure.test:${origin.port}/`]);
    assert.equal(r.code, 60, r.stderr); // curl: peer certificate cannot be authenticated
    await eventually(() =>
      proxy.events.some((e) => e.type === 'request.failed' && e.reason === 'client_tls_error'),
    );
  });

  it('a Host header naming another host inside the tunnel is refused (403)', async () => {
    const r = await curl([
      '--cacert',
      egressCaFile,
      '-x',
      proxy.url,
      '-H',
      'Host: evil.example',
      '-i',
      `https://secure.test:${origin.port}/`,
    ]);
    assert.match(r.stdout, /^HTTP\/1\.1 403 Forbidden/m);
    assert.match(r.stdout, /X-Egress-Reason: host_mismatch/i);
    // The refused request inside the tunnel is a request of its own; the tunnel ends as usual.
    const inner = proxy.events.findLast((e) => e.reason === 'host_mismatch')!;
    await expectLifecycle(proxy.events, (e) => e.requestId === inner.requestId, [
      'request.opened',
      'request.denied',
    ]);
    await expectLifecycle(
      proxy.events,
      (e) => e.destination?.host === 'secure.test' && e.requestId !== inner.requestId,
      ['request.opened', 'request.allowed', 'request.closed'],
    );
  });

  it('plain-HTTP forward requests in inspect mode are recorded too', async () => {
    const before = exchanges().length;
    const r = await curl([
      '-x',
      proxy.url,
      '-H',
      'Cookie: a=s3cr3t-cookie',
      `http://plain.test:${plain.port}/hello?q=hunter2`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    await eventually(() => exchanges().length > before);
    assert.equal(exchanges().at(-1)!.destination?.scheme, 'http');
    const http = lastHttp();
    assert.equal(http.url, `http://plain.test:${plain.port}/hello?q=[REDACTED]`);
    assert.equal(http.request.headers.cookie, '[REDACTED]');
    assert.equal(http.status, 200);
    assert.match(http.response!.body.text!, /^origin GET/);
    const steps = await expectLifecycle(proxy.events, toHost('plain.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
    assert.ok(steps.some((e) => e.type === 'inspect.exchange'));
  });
});

function connectTunnel(port: number, authority: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'CONNECT', path: authority });
    req.on('connect', (res, s: Socket) =>
      res.statusCode === 200 ? resolve(s) : reject(new Error(`CONNECT ${res.statusCode}`)),
    );
    req.on('error', reject);
    req.end();
  });
}
