import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../src/dataplane/events/event-bus.js';
import type { AuditEvent } from '../../src/protocol/audit-event.js';
import { Deciders } from '../../src/dataplane/decider/deciders.js';
import { readAnswer } from '../../src/dataplane/decider/answer.js';
import { AnswerCache } from '../../src/dataplane/decider/answer-cache.js';
import { eventually, startOrigin, startProxy, type Origin } from '../helpers/proxy-harness.js';
import { json, proxyGet, startWebhook, type Webhook } from './ops-helpers.js';

let origin: Origin;
const hooks: Webhook[] = [];
before(async () => {
  origin = await startOrigin('127.0.0.2');
});
after(async () => {
  await origin.close();
  await Promise.all(hooks.map((h) => h.close()));
});

function policy(decider: string, mode = 'restrict', extra = ''): string {
  return `version: 1
name: decided
mode: ${mode}
rules:
  - decide: [asked.test]
    decider: {${decider}, timeoutMs: 300${extra}}
  - allow: ["127.0.0.2"]
`;
}

async function withWebhook(handler: Parameters<typeof startWebhook>[1]): Promise<Webhook> {
  const hook = await startWebhook('127.0.0.3', handler);
  hooks.push(hook);
  return hook;
}

async function run(policyYaml: string) {
  // The harness builds its own bus, so the deciders get one of their own here; its events
  // (decider.failure) are collected separately.
  const bus = new EventBus();
  const failures: AuditEvent[] = [];
  bus.subscribe((e) => failures.push(e));
  const proxy = await startProxy(policyYaml, {
    pins: { 'asked.test': '127.0.0.2' },
    decider: new Deciders({ bus }),
  });
  return { proxy, failures };
}

test('webhook allow: the request goes through with reason decider_allow and the decide rule', async () => {
  const hook = await withWebhook((_b, res) => json(res, { decision: 'allow', reason: 'ok by me' }));
  const { proxy } = await run(policy(`url: "${hook.url}"`));
  try {
    const r = await proxyGet(proxy.port, `http://asked.test:${origin.port}/x?y=1`);
    assert.equal(r.status, 200);
    const call = hook.calls[0] as {
      workspace: string;
      policy: { name: string };
      request: unknown;
      rule: { kind: string };
    };
    assert.equal(call.workspace, 'test-ws');
    assert.equal(call.policy.name, 'decided');
    assert.deepEqual(call.request, {
      host: 'asked.test',
      port: origin.port,
      transport: 'tcp',
      scheme: 'http',
      method: 'GET',
      path: '/x?y=1',
    });
    assert.equal(call.rule.kind, 'decide');
    await eventually(() => proxy.events.some((e) => e.type === 'request.allowed'));
    const allowed = proxy.events.find((e) => e.type === 'request.allowed')!;
    assert.equal(allowed.reason, 'decider_allow');
    assert.equal(allowed.rule?.kind, 'decide');
  } finally {
    await proxy.close();
  }
});

test("webhook deny and Condukt's {action} shape: 403 decider_deny", async () => {
  const hook = await withWebhook((_b, res) => json(res, { action: 'deny', reason: 'not today' }));
  const { proxy } = await run(policy(`url: "${hook.url}"`));
  try {
    const r = await proxyGet(proxy.port, `http://asked.test:${origin.port}/`);
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-egress-reason'], 'decider_deny');
  } finally {
    await proxy.close();
  }
});

const failures: Array<[string, Parameters<typeof startWebhook>[1], string]> = [
  ['a webhook that hangs', () => undefined, 'decider_timeout'],
  [
    'a webhook that answers 500',
    (_b, res) => json(res, { decision: 'allow' }, 500),
    'decider_error',
  ],
  [
    'a webhook that answers garbage',
    (_b, res) => json(res, { decision: 'maybe' }),
    'decider_bad_return',
  ],
  [
    'a webhook that answers not-JSON',
    (_b, res) => {
      res.writeHead(200);
      res.end('<html>allow</html>');
    },
    'decider_bad_return',
  ],
];
for (const [what, handler, reason] of failures) {
  test(`${what}: denied with ${reason} and a decider.failure event, whatever the default`, async () => {
    const hook = await withWebhook(handler);
    const yaml = policy(`url: "${hook.url}"`).replace(
      'mode: restrict',
      'mode: restrict\ndefault: allow',
    );
    const { proxy, failures } = await run(yaml);
    try {
      const r = await proxyGet(proxy.port, `http://asked.test:${origin.port}/`);
      assert.equal(r.status, 403);
      assert.equal(r.headers['x-egress-reason'], reason);
      assert.ok(failures.some((e) => e.type === 'decider.failure' && e.reason === reason));
    } finally {
      await proxy.close();
    }
  });
}

test('a webhook nobody listens on: decider_error', async () => {
  const { proxy } = await run(policy('url: "http://127.0.0.3:1/decide"'));
  try {
    const r = await proxyGet(proxy.port, `http://asked.test:${origin.port}/`);
    assert.equal(r.headers['x-egress-reason'], 'decider_error');
  } finally {
    await proxy.close();
  }
});

test('monitor mode: a failing decider is recorded as wouldDeny and the request goes through', async () => {
  const hook = await withWebhook((_b, res) => json(res, 'nonsense'));
  const { proxy, failures } = await run(policy(`url: "${hook.url}"`, 'monitor'));
  try {
    const r = await proxyGet(proxy.port, `http://asked.test:${origin.port}/`);
    assert.equal(r.status, 200);
    const failure = failures.find((e) => e.type === 'decider.failure')!;
    assert.equal(failure.reason, 'decider_bad_return');
    assert.equal(failure.wouldDeny, true);
  } finally {
    await proxy.close();
  }
});

test('answers are cached per workspace per host; cache: false asks every time', async () => {
  const hook = await withWebhook((_b, res) => json(res, { decision: 'allow' }));
  const cached = await run(policy(`url: "${hook.url}"`));
  try {
    for (let i = 0; i < 3; i++)
      assert.equal(
        (await proxyGet(cached.proxy.port, `http://asked.test:${origin.port}/`)).status,
        200,
      );
    assert.equal(hook.calls.length, 1);
  } finally {
    await cached.proxy.close();
  }
  const uncached = await run(policy(`url: "${hook.url}"`, 'restrict', ', cache: false'));
  try {
    for (let i = 0; i < 2; i++)
      await proxyGet(uncached.proxy.port, `http://asked.test:${origin.port}/`);
    assert.equal(hook.calls.length, 3);
  } finally {
    await uncached.proxy.close();
  }
});

test('a JS module decider (sync, async, throwing, slow) in a temp folder, relative to the policy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-decider-'));
  writeFileSync(
    join(dir, 'decider.mjs'),
    `export function decide(ctx, req) {
  if (req.path === '/sync') return { decision: 'allow', reason: ctx.workspace };
  if (req.path === '/async') return Promise.resolve('deny');
  if (req.path === '/slow') return new Promise((r) => setTimeout(() => r('allow'), 2000));
  throw new Error('boom');
}\n`,
  );
  const bus = new EventBus();
  const proxy = await startProxy(policy('module: ./decider.mjs', 'restrict', ', cache: false'), {
    pins: { 'asked.test': '127.0.0.2' },
    decider: new Deciders({ bus, baseDirOf: () => dir }),
  });
  try {
    const get = (p: string) => proxyGet(proxy.port, `http://asked.test:${origin.port}${p}`);
    assert.equal((await get('/sync')).status, 200);
    assert.equal((await get('/async')).headers['x-egress-reason'], 'decider_deny');
    assert.equal((await get('/throws')).headers['x-egress-reason'], 'decider_error');
    assert.equal((await get('/slow')).headers['x-egress-reason'], 'decider_timeout');
  } finally {
    await proxy.close();
  }
});

test('a module without decide() is a decider_error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-decider-'));
  writeFileSync(join(dir, 'empty.mjs'), 'export const nothing = 1;\n');
  const proxy = await startProxy(policy(`module: ${join(dir, 'empty.mjs')}`), {
    pins: { 'asked.test': '127.0.0.2' },
    decider: new Deciders({ bus: new EventBus() }),
  });
  try {
    const r = await proxyGet(proxy.port, `http://asked.test:${origin.port}/`);
    assert.equal(r.headers['x-egress-reason'], 'decider_error');
  } finally {
    await proxy.close();
  }
});

test('readAnswer accepts egress and Condukt shapes and refuses the rest', () => {
  assert.deepEqual(readAnswer({ decision: 'allow' }), { decision: 'allow' });
  assert.deepEqual(readAnswer({ action: 'deny', reason: 'x' }), { decision: 'deny', reason: 'x' });
  assert.deepEqual(readAnswer('deny'), { decision: 'deny' });
  for (const bad of [
    null,
    1,
    'yes',
    {},
    { decision: 'allow', action: 'deny' },
    { decision: true },
    { decision: 'allow', reason: 3 },
    ['allow'],
  ])
    assert.equal(readAnswer(bad), undefined, JSON.stringify(bad));
});

test('AnswerCache: TTL and bounded size', () => {
  let now = 0;
  const cache = new AnswerCache(1000, 2, () => now);
  cache.set('a', { decision: 'allow' });
  cache.set('b', { decision: 'deny' });
  assert.ok(cache.get('a'));
  cache.set('c', { decision: 'allow' });
  assert.equal(cache.get('b'), undefined, 'least recently used is evicted');
  assert.ok(cache.get('a'));
  now = 1500;
  assert.equal(cache.get('a'), undefined, 'expired');
});
