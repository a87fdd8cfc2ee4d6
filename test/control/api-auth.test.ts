/** Failed logins: rate-limited per client address (429 with Retry-After), recorded as auth.failed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FailedLoginLimiter } from '../../src/control/auth/rate-limit.js';
import { ADMIN_TOKEN, startSqliteControl } from '../helpers/control-app.js';

describe('failed logins', () => {
  let now = 1_000_000;
  let control: Awaited<ReturnType<typeof startSqliteControl>>;
  before(async () => {
    control = await startSqliteControl({
      limiter: new FailedLoginLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now }),
    });
  });
  after(async () => control?.close());

  it('refuses an address after too many failures, even with a good token, until the window ends', async () => {
    const bad = control.as('egress_wrong');
    for (let i = 0; i < 3; i++) assert.equal((await bad('GET', '/api/v1/me')).status, 401);
    const limited = await bad('GET', '/api/v1/me');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'too_many_failed_logins');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await control.as(ADMIN_TOKEN)('GET', '/api/v1/me')).status, 429);
    now += 60_000;
    const ok = await control.as(ADMIN_TOKEN)('GET', '/api/v1/me');
    assert.equal(ok.status, 200);
    // Three failures were recorded; the refused attempts were not (the log cannot be flooded).
    const events = await control.admin('GET', '/api/v1/events?type=auth.failed');
    assert.equal(events.body.items.length, 3);
    assert.equal(events.body.items[0].client.address, '127.0.0.1');
  });

  it('stores tokens only as their sha-256 and shows a new one once', async () => {
    const created = await control.admin('POST', '/api/v1/me/tokens', { name: 'ci' });
    assert.equal(created.status, 201);
    assert.match(created.body.token, /^egress_[A-Za-z0-9_-]{43}$/);
    const listed = await control.admin('GET', '/api/v1/me/tokens');
    assert.ok(listed.body.every((t: { token?: string }) => t.token === undefined));
    assert.ok(!listed.text.includes(created.body.token));
    const stored = await control.store.findTokenByHash(created.body.token);
    assert.equal(stored, null, 'the secret itself is no key');
    assert.equal((await control.as(created.body.token)('GET', '/api/v1/me')).status, 200);
    assert.equal(
      (await control.admin('DELETE', `/api/v1/me/tokens/${created.body.id}`)).status,
      204,
    );
    assert.equal((await control.as(created.body.token)('GET', '/api/v1/me')).status, 401);
  });
});
