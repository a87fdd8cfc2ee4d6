import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { AdminServer } from '../../src/dataplane/admin/admin-server.js';
import { ProxyMetrics } from '../../src/dataplane/admin/proxy-metrics.js';
import { EventBus } from '../../src/dataplane/events/event-bus.js';
import { parseParentProxy } from '../../src/dataplane/net/parent-proxy.js';
import { eventually, startOrigin, startProxy, type Origin } from '../helpers/proxy-harness.js';
import { run } from '../helpers/run.js';
import { listenPort, proxyGet, startEgress } from './ops-helpers.js';

let origin: Origin;
before(async () => {
  origin = await startOrigin('127.0.0.2');
});
after(() => origin.close());

test('--upstream-proxy: viaUpstreamProxy destinations go through the parent, unresolved locally', async () => {
  // The parent knows custom.test; the child has no address for it (pinnedOnly: a lookup fails).
  const parent = await startProxy(
    'version: 1\nname: parent\nmode: restrict\nrules:\n  - allow: [custom.test, "127.0.0.2"]\n',
    { pins: { 'custom.test': '127.0.0.2' } },
  );
  const child = await startProxy(
    `version: 1
name: child
mode: restrict
rules:
  - allow: [custom.test, direct.test, "127.0.0.2"]
viaUpstreamProxy: [custom.test]
`,
    { pins: { 'direct.test': '127.0.0.2' }, parentProxy: parseParentProxy(parent.url) },
  );
  let parentOpen = true;
  try {
    const plain = await proxyGet(child.port, `http://custom.test:${origin.port}/plain`);
    assert.equal(plain.status, 200);
    assert.equal(origin.seen.at(-1)?.host, `custom.test:${origin.port}`);
    const tunnel = await run('curl', [
      '-s',
      '-p',
      '-x',
      child.url,
      `http://custom.test:${origin.port}/tunnel`,
    ]);
    assert.match(tunnel.stdout, /origin GET \/tunnel/);
    await eventually(
      () =>
        parent.events.filter(
          (e) => e.type === 'request.allowed' && e.destination?.host === 'custom.test',
        ).length === 2,
    );
    // Other destinations are reached directly: the parent never hears of them.
    assert.equal((await proxyGet(child.port, `http://direct.test:${origin.port}/`)).status, 200);
    assert.ok(!parent.events.some((e) => e.destination?.host === 'direct.test'));
    // The parent is gone: 502.
    await parent.close();
    parentOpen = false;
    const down = await proxyGet(child.port, `http://custom.test:${origin.port}/`);
    assert.equal(down.status, 502);
  } finally {
    await child.close();
    if (parentOpen) await parent.close();
  }
});

test('parseParentProxy: http://host:port only, credentials become Proxy-Authorization', () => {
  const p = parseParentProxy('http://u:p%40ss@127.0.0.1:3128');
  assert.equal(p.host, '127.0.0.1');
  assert.equal(p.port, 3128);
  assert.equal(p.authorization, `Basic ${Buffer.from('u:p@ss').toString('base64')}`);
  assert.equal(p.display, 'http://127.0.0.1:3128');
  for (const bad of ['https://x:1', 'http://x', 'x:1', 'http://x:1/path'])
    assert.throws(() => parseParentProxy(bad), /upstream-proxy/);
});

test('admin listener of a real proxy: /metrics counts decisions, connections and bytes; /healthz', async () => {
  const child = await startEgress(
    [
      'proxy',
      '--policy',
      'builtin:restrict',
      '--listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
      '--resolve',
      'blocked.test=127.0.0.2',
    ],
    'egress admin listening',
  );
  try {
    const port = listenPort(child.stderr());
    const admin = listenPort(child.stderr(), 'egress admin listening on');
    assert.equal((await proxyGet(port, `http://blocked.test:${origin.port}/`)).status, 403);
    const health = await fetch(`http://127.0.0.1:${admin}/healthz`);
    assert.equal(health.status, 200);
    const body = (await health.json()) as { status: string; policies: unknown[]; audit: string };
    assert.equal(body.status, 'ok');
    assert.equal(body.audit, 'disabled');
    assert.equal(body.policies.length, 1);
    const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    assert.match(metrics, /egress_decisions_total\{verdict="deny",reason="default_deny"\} 1/);
    assert.match(metrics, /egress_connections_total [1-9]/);
    assert.match(metrics, /egress_connections_open \d/);
    assert.match(metrics, /egress_audit_healthy 1/);
    assert.match(metrics, /# TYPE egress_decider_duration_seconds histogram/);
    assert.equal((await fetch(`http://127.0.0.1:${admin}/nope`)).status, 404);
  } finally {
    child.process.kill('SIGTERM');
    assert.equal(await child.exited, 0);
  }
});

test('ProxyMetrics counts from events (DNS rcode, bytes, decider latency); two proxies never share', async () => {
  const bus = new EventBus();
  const metrics = new ProxyMetrics(bus, { auditHealthy: () => false });
  const other = new ProxyMetrics(new EventBus(), { auditHealthy: () => true });
  const client = { workspace: 'w', session: null, user: null, address: null };
  await bus.emit({ type: 'dns.query', client, description: 'q', extra: { rcode: 'REFUSED' } });
  await bus.emit({ type: 'request.closed', client, description: 'c', bytesIn: 10, bytesOut: 4 });
  metrics.observeDecider('webhook', 'allow', 0.02);
  const text = await metrics.text();
  assert.match(text, /egress_dns_queries_total\{rcode="REFUSED"\} 1/);
  assert.match(text, /egress_bytes_in_total 10/);
  assert.match(text, /egress_bytes_out_total 4/);
  assert.match(text, /egress_decider_duration_seconds_count\{kind="webhook",outcome="allow"\} 1/);
  assert.match(text, /egress_audit_healthy 0/);
  assert.doesNotMatch(await other.text(), /egress_bytes_in_total 10/);
  metrics.close();
  other.close();
});

test('/healthz answers 503 once the audit log has failed', async () => {
  const bus = new EventBus();
  let audit: 'ok' | 'failed' = 'ok';
  const metrics = new ProxyMetrics(bus, { auditHealthy: () => audit === 'ok' });
  const server = new AdminServer({
    host: '127.0.0.1',
    port: 0,
    metrics,
    policies: () => [{ workspace: 'w', policy: 'p' }],
    audit: () => audit,
  });
  const { port } = await server.start();
  try {
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    audit = 'failed';
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(r.status, 503);
    assert.deepEqual(await r.json(), {
      status: 'audit_unavailable',
      policies: [{ workspace: 'w', policy: 'p' }],
      audit: 'failed',
    });
  } finally {
    await server.close();
    metrics.close();
  }
});
