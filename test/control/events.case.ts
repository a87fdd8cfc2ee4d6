/**
 * The audit-event half of the store suite (run on every backend by store.test.ts): idempotent
 * ingestion, filters and text search checked against a reference filter in JS, cursor pages
 * that cover every match exactly once, facets, scope-prefix filtering, export and retention.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { uuidv7 } from '../../src/protocol/event-id.js';
import {
  InvalidError,
  type EventFilter,
  type StorableEvent,
  type Store,
} from '../../src/control/store/store.js';
import type { StoreHarness } from '../helpers/stores.js';

const HOSTS = [
  'api.github.com',
  'registry.npmjs.org',
  'pypi.org',
  'evil.example.com',
  'files.pythonhosted.org',
];
const TYPES = ['request.allowed', 'request.denied', 'dns.query', 'request.closed'];
const SEVERITIES = ['info', 'warning', 'critical'] as const;
const BASE = Date.parse('2026-11-01T00:00:00.000Z');

/** `count` events, three per millisecond (so the id breaks ties), deterministic fields. */
function makeEvents(count: number, start = BASE): StorableEvent[] {
  const events: StorableEvent[] = [];
  for (let i = 0; i < count; i++) {
    const time = start + Math.floor(i / 3) * 1000;
    const host = HOSTS[i % HOSTS.length]!;
    const ws = `ws${i % 4}`;
    const project = i % 8 < 4 ? 'web' : 'api';
    const verdict = i % 3 === 0 ? 'deny' : 'allow';
    events.push({
      id: uuidv7(time),
      time: new Date(time).toISOString(),
      type: TYPES[i % TYPES.length]!,
      severity: SEVERITIES[i % SEVERITIES.length]!,
      workspace: ws,
      scope: `orgs/acme/projects/${project}/workspaces/${ws}`,
      user: i % 5 === 0 ? 'alice' : null,
      policy: { id: 'pol-1', name: 'base', version: '3' },
      verdict,
      reason: verdict === 'deny' ? 'rule' : 'allowed',
      destination: { host, port: 443 },
      description: `${verdict === 'deny' ? 'Denied' : 'Allowed'} ${host}:443 for ${ws} (#${i})`,
    });
  }
  return events;
}

/** What the store must answer, computed in JS: matching events newest first by (time, id). */
function reference(events: StorableEvent[], f: EventFilter): StorableEvent[] {
  const inList = (v: unknown, l: unknown) =>
    l === undefined || (Array.isArray(l) ? l.includes(v) : l === v);
  return events
    .filter((e) => {
      const t = Date.parse(e.time);
      if (!inList(e.type, f.type) || !inList(e.severity, f.severity)) return false;
      if (f.workspace !== undefined && e.workspace !== f.workspace) return false;
      if (f.user !== undefined && e.user !== f.user) return false;
      if (f.verdict !== undefined && e.verdict !== f.verdict) return false;
      if (f.from !== undefined && t < Date.parse(f.from)) return false;
      if (f.to !== undefined && t >= Date.parse(f.to)) return false;
      const under = (p: string) =>
        p === 'platform' || e.scope === p || e.scope?.startsWith(`${p}/`);
      if (f.scopes !== undefined && !f.scopes.some(under)) return false;
      if (
        f.q &&
        !`${e.destination?.host ?? ''} ${e.description}`.toLowerCase().includes(f.q.toLowerCase())
      )
        return false;
      return true;
    })
    .sort(
      (a, b) => Date.parse(b.time) - Date.parse(a.time) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    );
}

async function allPages(store: Store, filter: EventFilter, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await store.queryEvents({ ...filter, limit, ...(cursor ? { cursor } : {}) });
    assert.ok(page.events.length <= limit);
    ids.push(...page.events.map((e) => e.id));
    if (!page.nextCursor) return ids;
    cursor = page.nextCursor;
  }
  throw new Error('the cursor never ended');
}

export function eventCases(h: () => StoreHarness): void {
  it('ingests a batch idempotently by event id: the same batch twice is stored once', async () => {
    const store = await h().fresh();
    const batch = makeEvents(250);
    assert.deepEqual(await store.appendEvents(batch, { node: 'edge-1' }), {
      received: 250,
      inserted: 250,
    });
    assert.deepEqual(await store.appendEvents(batch), { received: 250, inserted: 0 });
    // A retried batch overlapping the first: only the new ones count.
    const more = makeEvents(10, BASE + 10_000_000);
    assert.deepEqual(await store.appendEvents([...batch.slice(0, 5), ...more, more[0]!]), {
      received: 16,
      inserted: 10,
    });
    assert.equal((await store.eventFacets({})).total, 260);
    const stored = await store.getEvent(batch[7]!.id);
    assert.deepEqual(stored, batch[7], 'the event comes back as it was sent');
    assert.equal((await store.queryEvents({ node: 'edge-1', limit: 1000 })).events.length, 250);
  });

  it('refuses a batch with an invalid event whole, naming the field', async () => {
    const store = await h().fresh();
    const batch = makeEvents(3);
    const bad = [...batch, { ...batch[0]!, id: uuidv7(), time: 'yesterday' }];
    await assert.rejects(
      store.appendEvents(bad),
      (e: unknown) => e instanceof InvalidError && e.field === 'events[3].time',
    );
    await assert.rejects(
      store.appendEvents([{ ...batch[0]!, severity: 'loud' as never }]),
      (e: unknown) => e instanceof InvalidError && e.field === 'events[0].severity',
    );
    assert.equal((await store.eventFacets({})).total, 0, 'nothing of a refused batch is stored');
  });

  it('answers filters and text search like the reference, pages covering each event once', async () => {
    const store = await h().fresh();
    const events = makeEvents(600);
    // Ingest out of order, in several batches: the listing order must not depend on it.
    const shuffled = [...events].sort((a, b) => (a.id.slice(-6) < b.id.slice(-6) ? -1 : 1));
    for (let i = 0; i < shuffled.length; i += 137)
      await store.appendEvents(shuffled.slice(i, i + 137));

    const filters: EventFilter[] = [
      {},
      { type: 'request.denied' },
      { type: ['request.denied', 'dns.query'], severity: 'warning' },
      { workspace: 'ws1', severity: ['info', 'critical'] },
      { user: 'alice', verdict: 'deny' },
      { q: 'github' },
      { q: 'GITHUB.com', type: 'request.allowed' },
      { q: 'npm', workspace: 'ws2', type: 'dns.query' },
      { q: 'ws', workspace: 'ws3' }, // matches every description
      { q: 'pi' }, // two characters: below the trigram length
      { q: '100%' },
      { q: '(#12)' },
      { from: new Date(BASE + 50_000).toISOString(), to: new Date(BASE + 90_000).toISOString() },
      { scopes: ['orgs/acme/projects/web'] },
      {
        scopes: ['orgs/acme/projects/api/workspaces/ws0', 'orgs/acme/projects/web/workspaces/ws1'],
        q: 'pypi',
      },
      { scopes: [] },
      { scopes: ['platform'], type: 'request.closed' },
      { scopes: ['orgs/acme/projects/we'] }, // a prefix of a name is not a parent
    ];
    for (const filter of filters) {
      const want = reference(events, filter).map((e) => e.id);
      const label = JSON.stringify(filter);
      const got = await allPages(store, filter, 7);
      assert.equal(new Set(got).size, got.length, `no event twice: ${label}`);
      assert.deepEqual(got, want, label);
      assert.deepEqual(
        (await store.queryEvents({ ...filter, limit: 1000 })).events.map((e) => e.id),
        want,
        `one page: ${label}`,
      );
      assert.equal((await store.eventFacets(filter)).total, want.length, `facet total: ${label}`);
    }
    // Export streams the same thing.
    const exported: string[] = [];
    for await (const e of store.exportEvents({ type: 'request.denied' }, { batchSize: 13 }))
      exported.push(e.id);
    assert.deepEqual(
      exported,
      reference(events, { type: 'request.denied' }).map((e) => e.id),
    );
  });

  it('counts facets by type, severity, verdict and workspace', async () => {
    const store = await h().fresh();
    const events = makeEvents(120);
    await store.appendEvents(events);
    const facets = await store.eventFacets({ q: 'example' });
    const matching = reference(events, { q: 'example' });
    const count = (key: (e: StorableEvent) => unknown) => {
      const m = new Map<unknown, number>();
      for (const e of matching) m.set(key(e), (m.get(key(e)) ?? 0) + 1);
      return m;
    };
    assert.equal(facets.total, matching.length);
    for (const [name, key] of [
      ['type', (e: StorableEvent) => e.type],
      ['severity', (e: StorableEvent) => e.severity],
      ['verdict', (e: StorableEvent) => e.verdict],
      ['workspace', (e: StorableEvent) => e.workspace],
    ] as const) {
      const want = count(key);
      const got = facets[name];
      assert.deepEqual(new Map(got.map((f) => [f.value, f.count])), want, name);
      for (let i = 1; i < got.length; i++)
        assert.ok(got[i - 1]!.count >= got[i]!.count, `${name} sorted`);
    }
  });

  it('continues a cursor correctly while newer and older events arrive', async () => {
    const store = await h().fresh();
    const events = makeEvents(90);
    await store.appendEvents(events);
    const first = await store.queryEvents({ limit: 40 });
    await store.appendEvents(makeEvents(30, BASE + 10_000_000)); // newer: not on later pages
    const rest = await allPages(store, { cursor: first.nextCursor! } as EventFilter, 25);
    const ids = [...first.events.map((e) => e.id), ...rest];
    assert.deepEqual(
      ids,
      reference(events, {}).map((e) => e.id),
    );
    await assert.rejects(
      store.queryEvents({ cursor: 'garbage' }),
      (e: unknown) => e instanceof InvalidError && e.field === 'cursor',
    );
    await assert.rejects(store.queryEvents({ limit: 0 }), InvalidError);
    await assert.rejects(store.queryEvents({ from: 'soon' }), InvalidError);
  });

  it('deletes events older than the retention setting, from the text index too', async () => {
    const store = await h().fresh();
    const now = new Date('2026-12-04T12:00:00.000Z');
    const old = makeEvents(30, now.getTime() - 40 * 86_400_000);
    const recent = makeEvents(20, now.getTime() - 86_400_000);
    await store.appendEvents([...old, ...recent]);
    await store.updateSettings({ retentionDays: 30 });
    const result = await store.applyRetention(now);
    assert.deepEqual(result, {
      retentionDays: 30,
      before: new Date(now.getTime() - 30 * 86_400_000).toISOString(),
      deleted: 30,
    });
    assert.equal((await store.eventFacets({})).total, 20);
    assert.equal(
      (await store.queryEvents({ q: 'github', limit: 1000 })).events.length,
      reference(recent, { q: 'github' }).length,
    );
    // A node re-sending a deleted event stores it again (it is new to the store).
    assert.equal((await store.appendEvents([old[0]!])).inserted, 1);
    assert.equal((await store.queryEvents({ q: '(#0)' })).events.length, 2);
    await store.updateSettings({ retentionDays: null });
    assert.equal((await store.applyRetention(now)).deleted, 0);
    assert.equal(await store.deleteEventsBefore(new Date(now.getTime() + 1)), 21);
  });

  it('stores control-plane change events in the same table, in a transaction', async () => {
    const store = await h().fresh();
    const org = await store.transaction(async (tx) => {
      const scope = await tx.createScope({
        parentId: 'platform',
        kind: 'organisation',
        name: 'acme',
      });
      await tx.appendEvents([
        {
          id: uuidv7(),
          time: new Date().toISOString(),
          type: 'scope.created',
          severity: 'info',
          user: 'admin',
          scope: scope.path,
          description: 'admin created organisation acme',
        },
      ]);
      return scope;
    });
    const page = await store.queryEvents({ scopes: [org.path], type: 'scope.created' });
    assert.equal(page.events.length, 1);
    assert.equal(page.events[0]!.user, 'admin');
  });
}
