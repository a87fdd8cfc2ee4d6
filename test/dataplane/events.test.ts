/**
 * The canonical audit event (DESIGN.md section 5) and the audit log's durability contract:
 * every field present in a fixed order, ids sortable by time, group commit, and fail-closed
 * behaviour when the disk fails.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compilePolicy, decide, decideIngress, emptyPolicy } from '../../src/policy/index.js';
import { AuditLog, AuditUnavailableError } from '../../src/dataplane/events/audit-log.js';
import { buildEvent, EVENT_FIELDS, EVENT_TYPES } from '../../src/protocol/audit-event.js';
import { EventBus } from '../../src/dataplane/events/event-bus.js';
import { EventClock, stampAt } from '../../src/protocol/event-id.js';

const client = { workspace: 'ws', session: 's1', user: 'u', address: '127.0.0.1' };

function sampleDecision() {
  const policy = emptyPolicy('p', 'restrict');
  policy.rules = [
    {
      kind: 'deny',
      selectors: [{ host: 'evil.test', source: { file: 'p.yaml', line: 3, col: 5 } }],
    },
  ];
  return decide(compilePolicy(policy, { version: 'v1' }), { host: 'evil.test', port: 443 });
}

describe('canonical event', () => {
  it('has every field of DESIGN.md section 5, in order, null when not applicable', () => {
    const event = buildEvent({
      type: 'request.denied',
      client,
      decision: sampleDecision(),
      description: 'Denied.',
    });
    assert.deepEqual(Object.keys(event), [...EVENT_FIELDS]);
    assert.equal(event.type, 'request.denied');
    assert.equal(event.severity, 'warning');
    assert.deepEqual(event.policy, { id: null, name: 'p', version: 'v1' });
    assert.deepEqual(event.rule, { index: 0, kind: 'deny', source: 'p.yaml:3:5' });
    assert.deepEqual(event.destination, { host: 'evil.test', port: 443, transport: 'tcp' });
    assert.equal(event.verdict, 'deny');
    assert.equal(event.enforced, true);
    assert.equal(event.wouldDeny, false);
    assert.equal(event.http, null);
    assert.equal(event.bytesIn, null);
    assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('ids are UUIDv7 and sort by time', () => {
    const a = buildEvent(
      { type: 'dns.query', client, description: 'a' },
      stampAt(Date.parse('2026-01-01T00:00:00Z')),
    );
    const b = buildEvent(
      { type: 'dns.query', client, description: 'b' },
      stampAt(Date.parse('2026-01-01T00:00:01Z')),
    );
    assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(a.id < b.id);
  });

  it('lists the decided types', () => {
    for (const t of [
      'request.opened',
      'request.allowed',
      'request.denied',
      'request.closed',
      'request.failed',
      'dns.query',
      'udp.dropped',
      'inspect.exchange',
      'decider.failure',
      'ingress.accepted',
      'ingress.refused',
      'ingress.closed',
    ]) {
      assert.ok((EVENT_TYPES as readonly string[]).includes(t), t);
    }
  });

  it('an ingress event has the same fields, with the ingress decision and byte counts', () => {
    const policy = emptyPolicy('p', 'restrict');
    policy.ingress = {
      default: 'deny',
      allow: [{ ports: [{ from: 9000, to: 9000 }], transport: 'udp' }],
    };
    const decision = decideIngress(compilePolicy(policy, { version: 'v1' }), {
      port: 9000,
      transport: 'udp',
    });
    const event = buildEvent({
      type: 'ingress.closed',
      client,
      decision,
      bytesIn: 10,
      bytesOut: 20,
      durationMs: 5,
      description: 'Inbound UDP flow closed.',
    });
    assert.deepEqual(Object.keys(event), [...EVENT_FIELDS]);
    assert.deepEqual(event.rule, { index: 0, kind: 'ingress', source: null });
    assert.deepEqual(
      [event.verdict, event.reason, event.severity],
      ['allow', 'allowed_by_rule', 'info'],
    );
    assert.deepEqual([event.bytesIn, event.bytesOut, event.durationMs], [10, 20, 5]);
    const refused = buildEvent({ type: 'ingress.refused', client, decision, description: 'x' });
    assert.equal(refused.severity, 'warning');
  });
});

describe('audit log', () => {
  it('resolves record() only once the event is on disk, batching concurrent events', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'egress-audit-')), 'a.ndjson');
    const log = new AuditLog(path);
    await log.start();
    const bus = new EventBus(log);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        bus.emit({
          type: 'request.denied',
          client,
          decision: sampleDecision(),
          description: `n${i}`,
        }),
      ),
    );
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(lines.length, 200);
    assert.ok(log.stats.batches < 20, `group commit: ${log.stats.batches} batches for 200 events`);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(first), [...EVENT_FIELDS]);
    await log.close();
  });

  it('writes events nobody waits on in order with the awaited ones, and close() flushes them', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'egress-audit-')), 'a.ndjson');
    const log = new AuditLog(path);
    await log.start();
    const bus = new EventBus(log);
    for (let i = 0; i < 50; i++)
      bus.emitLater({ type: 'request.opened', client, description: `o${i}` });
    const denied = bus.emit({ type: 'request.denied', client, description: 'd' });
    bus.emitLater({ type: 'request.closed', client, description: 'after' });
    await denied;
    // The denial is durable, and so is everything queued before it (same or earlier batch).
    const durable = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(durable.length >= 51, true, `${durable.length} lines after the denial resolved`);
    await log.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    const descriptions = lines.map((l) => (JSON.parse(l) as { description: string }).description);
    assert.deepEqual(descriptions, [
      ...Array.from({ length: 50 }, (_, i) => `o${i}`),
      'd',
      'after',
    ]);
    assert.equal(log.stats.events, 52);
    // Closed: nothing more is taken, and saying so is not an error.
    assert.equal(
      log.append(buildEvent({ type: 'request.opened', client, description: 'late' })),
      false,
    );
  });

  it('an event clock stamps events of one millisecond with one time and distinct, sorted ids', () => {
    const clock = new EventClock();
    const ms = Date.parse('2026-11-22T10:00:00.123Z');
    const a = clock.stamp(ms);
    const b = clock.stamp(ms);
    const c = clock.stamp(ms + 1);
    assert.equal(a.time, '2026-11-22T10:00:00.123Z');
    assert.equal(b.time, a.time);
    assert.notEqual(a.id, b.id);
    assert.equal(a.id.slice(0, 15), b.id.slice(0, 15));
    assert.ok(b.id < c.id && a.id < c.id);
    assert.equal(c.time, '2026-11-22T10:00:00.124Z');
    assert.match(c.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(c.id.slice(0, 8) + c.id.slice(9, 13), 16), ms + 1);
  });

  it('turns unavailable on a write error, rejects every later record, and says so once', async () => {
    const failures: string[] = [];
    const log = new AuditLog('/dev/full', true, (err) => failures.push(err.message));
    await log.start();
    const bus = new EventBus(log);
    await assert.rejects(
      bus.emit({ type: 'request.denied', client, description: 'x' }),
      AuditUnavailableError,
    );
    assert.equal(bus.healthy, false);
    await assert.rejects(
      bus.emit({ type: 'request.denied', client, description: 'y' }),
      /cannot be written: ENOSPC/,
    );
    assert.equal(failures.length, 1);
    await log.close();
  });

  it('a listener that throws never breaks the data path', async () => {
    const bus = new EventBus(null);
    bus.subscribe(() => {
      throw new Error('buggy listener');
    });
    const event = await bus.emit({ type: 'dns.query', client, description: 'ok' });
    assert.equal(event.type, 'dns.query');
  });
});
