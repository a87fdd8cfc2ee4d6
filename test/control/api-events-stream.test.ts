/**
 * GET /api/v1/events/stream: newly stored events arrive as Server-Sent Events with the filters
 * of GET /api/v1/events, cut to what the caller may see; control-plane changes (written inside
 * a transaction) arrive after their commit; a retried batch is sent once; Last-Event-ID
 * catches up on what was stored meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventHub } from '../../src/control/events/event-hub.js';
import { uuidv7 } from '../../src/protocol/event-id.js';
import { ADMIN_TOKEN, seedAcme, startSqliteControl, userWithRole } from '../helpers/control-app.js';
import { openSse, type SseReader } from '../helpers/sse.js';

const WS1 = 'orgs/acme/projects/web/workspaces/ws1';

function event(host: string, verdict: 'allow' | 'deny', scope = WS1, at = Date.now()) {
  return {
    id: uuidv7(at),
    time: new Date(at).toISOString(),
    type: verdict === 'deny' ? 'request.denied' : 'request.allowed',
    severity: verdict === 'deny' ? 'warning' : 'info',
    workspace: scope,
    scope,
    verdict,
    reason: verdict === 'deny' ? 'default_deny' : 'allowed_by_rule',
    destination: { host, port: 443, transport: 'tcp' },
    description: `${verdict} ${host}:443`,
  };
}

describe('the live audit stream', () => {
  let control: Awaited<ReturnType<typeof startSqliteControl>>;
  const hub = new EventHub();
  const open: SseReader[] = [];
  const stream = async (query: string, token = ADMIN_TOKEN, extra: Record<string, string> = {}) => {
    const r = await openSse(`${control.url}/api/v1/events/stream${query}`, {
      authorization: `Bearer ${token}`,
      ...extra,
    });
    open.push(r);
    return r;
  };
  const send = (events: object[]) =>
    fetch(`${control.url}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' },
      body: events.map((e) => JSON.stringify(e)).join('\n'),
    });

  before(async () => {
    control = await startSqliteControl({ events: hub });
    await seedAcme(control.admin);
    await control.admin('POST', '/api/v1/orgs', { name: 'other' });
  });
  after(async () => {
    for (const r of open) r.close();
    await control?.close();
  });

  it('sends new events matching the filters, once, as SSE', async () => {
    const denied = await stream('?verdict=deny&q=evil');
    assert.equal(denied.status, 200);
    assert.match(denied.headers.get('content-type') ?? '', /^text\/event-stream/);
    const batch = [
      event('evil.example.com', 'deny'),
      event('api.github.com', 'allow'),
      event('good.example.com', 'deny'),
    ];
    assert.equal((await send(batch)).status, 200);
    assert.equal((await send(batch)).status, 200); // a retried batch: stored once, sent once
    await send([event('evil.example.com', 'deny')]);
    const got = await denied.waitFor(2);
    assert.deepEqual(
      got.map((m) => [m.event, (m.data as { destination: { host: string } }).destination.host]),
      [
        ['audit', 'evil.example.com'],
        ['audit', 'evil.example.com'],
      ],
    );
    assert.equal(got[0]!.id, batch[0]!.id);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(denied.messages.length, 2);
  });

  it('delivers control-plane changes after their commit', async () => {
    const changes = await stream('?type=policy.created');
    const created = await control.admin('POST', '/api/v1/orgs/acme/policies', {
      name: 'Streamed',
      description: 'seen live',
      source: 'version: 1\nname: s\nmode: restrict\nrules:\n  - allow: [github.com]\n',
    });
    assert.equal(created.status, 201, created.text);
    const [m] = await changes.waitFor(1);
    assert.equal((m!.data as { type: string }).type, 'policy.created');
    assert.equal((m!.data as { scope: string }).scope, 'orgs/acme');
  });

  it('shows a user only the scopes where they hold Security::Access', async () => {
    const token = await userWithRole(control.admin, 'otto', 'org-owner', 'orgs/other');
    const theirs = await stream('', token);
    const mine = await stream('?type=request.allowed');
    await send([event('acme.example.com', 'allow')]);
    await send([event('other.example.com', 'allow', 'orgs/other/projects/p/workspaces/w')]);
    await mine.waitFor(2);
    const seen = await theirs.waitFor(1);
    assert.equal((seen[0]!.data as { scope: string }).scope, 'orgs/other/projects/p/workspaces/w');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(theirs.messages.length, 1);
  });

  it('catches up after Last-Event-ID, oldest first, then goes live', async () => {
    const t = Date.now();
    const first = event('one.example.com', 'deny', WS1, t);
    const missed = [
      event('two.example.com', 'deny', WS1, t + 1),
      event('three.example.com', 'deny', WS1, t + 2),
    ];
    await send([first]);
    await send(missed);
    const resumed = await stream(
      '?workspace=' + encodeURIComponent(WS1) + '&verdict=deny',
      ADMIN_TOKEN,
      {
        'last-event-id': first.id,
      },
    );
    await send([event('four.example.com', 'deny', WS1, t + 3)]);
    const got = await resumed.waitFor(3);
    assert.deepEqual(
      got.map((m) => (m.data as { destination: { host: string } }).destination.host),
      ['two.example.com', 'three.example.com', 'four.example.com'],
    );
  });

  it('lets go of a stream when its client disconnects', async () => {
    const before = hub.size;
    const r = await stream('');
    assert.equal(hub.size, before + 1);
    r.close();
    for (let i = 0; i < 50 && hub.size > before; i++) await new Promise((ok) => setTimeout(ok, 20));
    assert.equal(hub.size, before);
  });

  it('refuses bad filters with a problem pointing at the parameter', async () => {
    const r = await control.admin('GET', '/api/v1/events/stream?severity=loud');
    assert.equal(r.status, 400);
    assert.match(r.body.field, /severity/);
    const anon = await control.as(undefined)('GET', '/api/v1/events/stream');
    assert.equal(anon.status, 401);
  });
});
