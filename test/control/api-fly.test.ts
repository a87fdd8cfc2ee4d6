/**
 * The Fly.io-compatible endpoints (DESIGN.md 9.3) with the request bodies of Fly's own
 * documentation (fly.io/docs/machines/guides-examples/network-policies): same paths, bare JSON
 * arrays, `{"error": "…"}` errors, and enforced: a Fly policy on a project reaches the
 * workspaces its selector matches through step 3 of the effective policy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedAcme, startSqliteControl } from '../helpers/control-app.js';

// "Restricting egress traffic to HTTP/HTTPS", verbatim.
const SPECIFIC_EGRESS = `{
    "name": "specific-egress",
    "selector": {
      "all": true
    },
    "rules": [
      {
        "action": "allow",
        "direction": "egress",
        "ports": [
          { "protocol": "tcp", "port": 80 },
          { "protocol": "tcp", "port": 443 }
        ]
      }
    ]
  }`;

// The documented selectors and rule example, assembled into policies.
const RULE_443 = { action: 'allow', direction: 'egress', ports: [{ protocol: 'tcp', port: 443 }] };
const BY_METADATA = {
  name: 'web-production',
  selector: { metadata: { role: 'web', env: 'production' } },
  rules: [RULE_443],
};
const BY_MACHINES = {
  name: 'abc-def',
  selector: { machines: [{ id: 'abc' }, { id: 'def' }] },
  rules: [RULE_443],
};

describe('Fly.io network_policies endpoints', () => {
  let control: Awaited<ReturnType<typeof startSqliteControl>>;
  const fly = (method: string, path: string, body?: unknown) =>
    control.admin(method, `/v1/apps/web/network_policies${path}`, body);
  const effective = async (ws: string) =>
    (await control.admin('GET', `/api/v1/orgs/acme/projects/web/workspaces/${ws}/effective-policy`))
      .body;
  const decide = async (ws: string, destinations: string[]) =>
    (
      await control.admin(
        'POST',
        `/api/v1/orgs/acme/projects/web/workspaces/${ws}/effective-policy/test`,
        { destinations },
      )
    ).body.map((d: { verdict: string }) => d.verdict);

  before(async () => {
    control = await startSqliteControl();
    await seedAcme(control.admin);
    for (const name of ['abc', 'def'])
      assert.equal(
        (await control.admin('POST', '/api/v1/orgs/acme/projects/web/workspaces', { name })).status,
        201,
      );
  });
  after(async () => control?.close());

  let specificId: string;
  it("creates the documentation's specific-egress policy and lists it as a bare array", async () => {
    const created = await fly('POST', '', SPECIFIC_EGRESS);
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.name, 'specific-egress');
    assert.deepEqual(created.body.selector, { all: true });
    assert.equal(created.body.rules[0].ports.length, 2);
    specificId = created.body.id;
    for (const path of ['', '/']) {
      const list = await fly('GET', path);
      assert.equal(list.status, 200);
      assert.ok(Array.isArray(list.body));
      assert.deepEqual(
        list.body.map((p: { id: string }) => p.id),
        [specificId],
      );
    }
    // Stored as written, as a policy of the project (format fly).
    const stored = await control.admin('GET', `/api/v1/policies/${specificId}`);
    assert.equal(stored.body.format, 'fly');
    assert.equal(stored.body.source, SPECIFIC_EGRESS);
    assert.equal(stored.body.scope, 'orgs/acme/projects/web');
  });

  it('enforces it through step 3 on every workspace of the app', async () => {
    const e = await effective('ws2');
    assert.equal(e.step, 'selector');
    assert.equal(e.scope, 'orgs/acme/projects/web');
    assert.deepEqual(
      e.policies.map((p: { id: string }) => p.id),
      [specificId],
    );
    assert.deepEqual(
      await decide('ws2', [
        'example.com',
        'http://example.com',
        'example.com:22',
        'udp://example.com:53',
      ]),
      ['allow', 'allow', 'deny', 'deny'],
    );
  });

  it('combines the policies whose selectors match, in creation order', async () => {
    const meta = await fly('POST', '', BY_METADATA);
    assert.equal(meta.status, 200, meta.text);
    const machines = await fly('POST', '/', BY_MACHINES);
    assert.equal(machines.status, 200, machines.text);
    const ws1 = await effective('ws1');
    assert.deepEqual(
      ws1.policies.map((p: { name: string }) => p.name),
      ['specific-egress', 'web-production'],
    );
    const abc = await effective('abc');
    assert.deepEqual(
      abc.policies.map((p: { name: string }) => p.name),
      ['specific-egress', 'abc-def'],
    );
    const ws2 = await effective('ws2');
    assert.deepEqual(
      ws2.policies.map((p: { name: string }) => p.name),
      ['specific-egress'],
    );
  });

  it('updates a policy when the body has its id', async () => {
    const body = JSON.parse(SPECIFIC_EGRESS) as { rules: Array<{ ports: unknown[] }> };
    body.rules[0]!.ports = [{ protocol: 'tcp', port: 443 }];
    const updated = await fly('POST', '', { ...body, id: specificId });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.id, specificId);
    assert.equal((await control.admin('GET', `/api/v1/policies/${specificId}`)).body.version, 2);
    assert.deepEqual(await decide('ws2', ['http://example.com', 'example.com']), ['deny', 'allow']);
  });

  it('answers errors in Fly\'s shape: {"error": "…"} with the HTTP status', async () => {
    const deny = await fly('POST', '', {
      name: 'no-smtp',
      selector: { all: true },
      rules: [{ ...RULE_443, action: 'deny' }],
    });
    assert.equal(deny.status, 400);
    assert.deepEqual(Object.keys(deny.body), ['error']);
    assert.match(deny.body.error, /only have "allow" rules/);
    const unknownField = await fly('POST', '', { name: 'x', selecter: { all: true }, rules: [] });
    assert.equal(unknownField.status, 400);
    assert.match(unknownField.body.error, /selecter/);
    const malformed = await fly('POST', '', '{"name": "x",');
    assert.equal(malformed.status, 400);
    assert.equal(typeof malformed.body.error, 'string');
    const noApp = await control.admin('GET', '/v1/apps/nope/network_policies');
    assert.equal(noApp.status, 404);
    assert.deepEqual(noApp.body, { error: 'app "nope" not found' });
    const anonymous = await control.as(undefined)('GET', '/v1/apps/web/network_policies');
    assert.equal(anonymous.status, 401);
    assert.equal(typeof anonymous.body.error, 'string');
    const noPolicy = await fly('DELETE', '/no-such-id');
    assert.equal(noPolicy.status, 404);
    assert.equal(typeof noPolicy.body.error, 'string');
  });

  it('gives way to an enforced assignment above, and deletes', async () => {
    const orgPolicy = await control.admin('POST', '/api/v1/orgs/acme/policies', {
      name: 'Org lockdown',
      description: 'only github',
      source: 'version: 1\nname: o\nmode: restrict\nrules:\n  - allow: [github.com]\n',
    });
    assert.equal(
      (
        await control.admin('PUT', '/api/v1/orgs/acme/assignment', {
          policy: orgPolicy.body.id,
          enforced: true,
        })
      ).status,
      200,
    );
    assert.equal((await effective('ws1')).step, 'enforced');
    assert.equal(
      (
        await control.admin('PUT', '/api/v1/orgs/acme/assignment', {
          policy: null,
          enforced: false,
        })
      ).status,
      200,
    );
    const del = await fly('DELETE', `/${specificId}`);
    assert.equal(del.status, 200, del.text);
    const list = await fly('GET', '');
    assert.deepEqual(
      list.body.map((p: { name: string }) => p.name),
      ['web-production', 'abc-def'],
    );
    // Nothing is assigned in the project: ws2 has no policy (the data plane answers no_policy).
    assert.deepEqual((await effective('ws2')).step, 'none');
    assert.deepEqual(await decide('ws2', ['example.com']), ['deny']);
  });
});
