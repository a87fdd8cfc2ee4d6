/**
 * Faults: upstreams that reset, refuse or stall, and an audit log that cannot be written. The
 * proxy must answer clearly (502/504/503 with a reason), stay up, and fail closed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { eventually, startOrigin, startProxy } from '../helpers/proxy-harness.js';
import { curlStatus, run } from '../helpers/run.js';

const POLICY =
  'version: 1\nname: faults\nmode: restrict\nrules:\n  - allow: [up.test, denied-not.test, "127.0.0.2"]\n';

describe('upstream faults', () => {
  it('an upstream that resets mid-response: the client sees the cut, the proxy stays up', async () => {
    const server = createServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
        setTimeout(() => socket.resetAndDestroy(), 20);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    const port = (server.address() as AddressInfo).port;
    const proxy = await startProxy(POLICY, { pins: { 'up.test': '127.0.0.2' } });
    const origin = await startOrigin('127.0.0.2');
    try {
      const cut = await run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-x',
        proxy.url,
        `http://up.test:${port}/big`,
      ]);
      assert.notEqual(cut.code, 0, 'curl notices the truncated body');
      const after = await curlStatus(proxy.url, `http://up.test:${origin.port}/next`);
      assert.equal(after.stdout, '200 ', 'the proxy still serves');
      const tunnel = await run('curl', [
        '-sS',
        '-p',
        '-o',
        '/dev/null',
        '-x',
        proxy.url,
        `http://up.test:${port}/big`,
      ]);
      assert.notEqual(tunnel.code, 0);
    } finally {
      await proxy.close();
      await origin.close();
      server.close();
    }
  });

  it('a refused upstream is 502 upstream_refused, with a request.failed event', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const proxy = await startProxy(POLICY, { pins: { 'up.test': '127.0.0.2' } });
    try {
      assert.equal(
        (await curlStatus(proxy.url, `http://up.test:${port}/`)).stdout,
        '502 upstream_refused',
      );
      const connect = await run('curl', [
        '-sS',
        '-p',
        '-o',
        '/dev/null',
        '-w',
        '%{http_connect}',
        '-x',
        proxy.url,
        `http://up.test:${port}/`,
      ]);
      assert.equal(connect.stdout, '502');
      await eventually(() =>
        proxy.events.some((e) => e.type === 'request.failed' && e.reason === 'upstream_refused'),
      );
    } finally {
      await proxy.close();
    }
  });

  it('an upstream that accepts and never answers is 504 upstream_timeout', async () => {
    const held: import('node:net').Socket[] = [];
    const server = createServer((s) => held.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    const port = (server.address() as AddressInfo).port;
    const proxy = await startProxy(POLICY, {
      pins: { 'up.test': '127.0.0.2' },
      limits: { idleTimeoutMs: 300 },
    });
    try {
      assert.equal(
        (await curlStatus(proxy.url, `http://up.test:${port}/`)).stdout,
        '504 upstream_timeout',
      );
    } finally {
      held.forEach((s) => s.destroy());
      await proxy.close();
      server.close();
    }
  });

  it('a name that does not resolve is 502 with a dns_* reason', async () => {
    const proxy = await startProxy(POLICY, { pins: {} });
    try {
      assert.equal((await curlStatus(proxy.url, 'http://up.test/')).stdout, '502 dns_nxdomain');
    } finally {
      await proxy.close();
    }
  });
});

describe('audit log faults (fail closed)', () => {
  it('egress proxy refuses to start when the audit log cannot be written', async () => {
    const child = spawn(
      process.execPath,
      [
        'bin/egress',
        'proxy',
        '--policy',
        'builtin:restrict',
        '--listen',
        '127.0.0.1:0',
        '--audit-log',
        '/dev/full',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /egress: the audit log \/dev\/full cannot be written: ENOSPC/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('once the disk fails, allowed traffic gets 503 audit_unavailable and denials still 403', async () => {
    const origin = await startOrigin('127.0.0.2');
    const proxy = await startProxy(POLICY, {
      pins: { 'up.test': '127.0.0.2', 'other.test': '127.0.0.2' },
      auditPath: '/dev/full',
    });
    try {
      // The first allowed request's event is what discovers the full disk.
      await curlStatus(proxy.url, `http://up.test:${origin.port}/`);
      await eventually(() => !proxy.proxy.context.bus.healthy);
      assert.equal(
        (await curlStatus(proxy.url, `http://up.test:${origin.port}/`)).stdout,
        '503 audit_unavailable',
      );
      assert.equal(
        (await curlStatus(proxy.url, `http://other.test:${origin.port}/`)).stdout,
        '403 default_deny',
      );
      assert.equal(origin.seen.length <= 1, true, 'nothing passes once the audit log is down');
    } finally {
      await proxy.close().catch(() => undefined);
      await origin.close();
    }
  });
});

describe('limits', () => {
  it('a request head over the size limit is 431, and the proxy keeps serving', async () => {
    const origin = await startOrigin('127.0.0.2');
    const proxy = await startProxy(POLICY, {
      pins: { 'up.test': '127.0.0.2' },
      limits: { maxHeaderBytes: 4096 },
    });
    try {
      const big = await run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-x',
        proxy.url,
        '-H',
        `X-Big: ${'a'.repeat(8000)}`,
        `http://up.test:${origin.port}/`,
      ]);
      assert.equal(big.stdout, '431');
      assert.equal((await curlStatus(proxy.url, `http://up.test:${origin.port}/`)).stdout, '200 ');
      assert.equal(origin.seen.length, 1, 'only the small request reached the origin');
    } finally {
      await proxy.close();
      await origin.close();
    }
  });

  it('connections beyond --max-connections get 503 too_many_connections', async () => {
    const origin = await startOrigin('127.0.0.2');
    const proxy = await startProxy(POLICY, {
      pins: { 'up.test': '127.0.0.2' },
      limits: { maxConnections: 2 },
    });
    const { RawClient } = await import('../helpers/raw-socket.js');
    const held = [await RawClient.open(proxy.port), await RawClient.open(proxy.port)];
    try {
      await eventually(() => proxy.proxy.connections === 2);
      const r = await curlStatus(proxy.url, `http://up.test:${origin.port}/`);
      assert.equal(r.stdout.split(' ')[0], '503');
    } finally {
      held.forEach((c) => c.close());
      await proxy.close();
      await origin.close();
    }
  });
});
