/**
 * RBAC (DESIGN.md 9.2) through the real API: who may read and change what, at which scope.
 * What you may not read is 404 (nothing leaks: it looks exactly like what does not exist);
 * what you may read but not change is 403 naming Security::Manage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedAcme, startSqliteControl, userWithRole } from '../helpers/control-app.js';
import type { Api } from '../helpers/control.js';

const NATIVE = 'version: 1\nname: p\nmode: restrict\nrules:\n  - allow: [github.com]\n';

describe('RBAC through the API', () => {
  let control: Awaited<ReturnType<typeof startSqliteControl>>;
  let pat: Api;
  let dev: Api;
  let other: Api;
  let outsider: Api;
  let orgOwner: Api;
  let defaults: Record<string, string>;

  before(async () => {
    control = await startSqliteControl();
    const admin = control.admin;
    ({ defaults } = await seedAcme(admin));
    assert.equal(
      (await admin('POST', '/api/v1/orgs/acme/projects', { name: 'other' })).status,
      201,
    );
    assert.equal((await admin('POST', '/api/v1/orgs', { name: 'beta' })).status, 201);
    pat = control.as(await userWithRole(admin, 'pat', 'project-owner', 'orgs/acme/projects/web'));
    dev = control.as(await userWithRole(admin, 'dev', 'developer', 'orgs/acme/projects/web'));
    other = control.as(
      await userWithRole(admin, 'olga', 'project-owner', 'orgs/acme/projects/other'),
    );
    // A custom role: read-only everywhere in organisation beta.
    const role = await admin('POST', '/api/v1/roles', {
      name: 'reader',
      description: 'reads network security',
      permissions: ['Security::Access'],
    });
    assert.equal(role.status, 201, role.text);
    outsider = control.as(await userWithRole(admin, 'bob', 'reader', 'orgs/beta'));
    orgOwner = control.as(await userWithRole(admin, 'oscar', 'org-owner', 'orgs/acme'));
  });
  after(async () => control?.close());

  it('lets a developer read their project but not change it (403 naming the permission)', async () => {
    assert.equal((await dev('GET', '/api/v1/orgs/acme/projects/web/policies')).status, 200);
    assert.equal(
      (await dev('GET', '/api/v1/orgs/acme/projects/web/workspaces/ws1/effective-policy')).status,
      200,
    );
    const create = await dev('POST', '/api/v1/orgs/acme/projects/web/policies', {
      name: 'mine',
      description: 'd',
      source: NATIVE,
    });
    assert.equal(create.status, 403);
    assert.match(create.headers.get('content-type')!, /application\/problem\+json/);
    assert.equal(create.body.code, 'permission_denied');
    assert.equal(create.body.permission, 'Security::Manage');
    const assign = await dev('PUT', '/api/v1/orgs/acme/projects/web/assignment', {
      policy: defaults.monitor,
      enforced: false,
    });
    assert.equal(assign.status, 403);
    assert.equal(assign.body.permission, 'Security::Manage');
    const edit = await dev(
      'PUT',
      `/api/v1/policies/${defaults.restrict}`,
      { description: 'x' },
      { 'if-match': '"v1"' },
    );
    assert.equal(edit.status, 403);
  });

  it('answers 404 for a sibling project, exactly as for one that does not exist', async () => {
    const sibling = await other('GET', '/api/v1/orgs/acme/projects/web/policies');
    const missing = await other('GET', '/api/v1/orgs/acme/projects/nope/policies');
    assert.equal(sibling.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(sibling.body.code, missing.body.code);
    assert.equal((await other('GET', `/api/v1/policies/${defaults.restrict}`)).status, 404);
    assert.equal(
      (await other('GET', '/api/v1/orgs/acme/projects/web/workspaces/ws1/effective-policy')).status,
      404,
    );
    // Writing where you cannot read is 404 too, not 403.
    const write = await other('POST', '/api/v1/orgs/acme/projects/web/policies', {
      name: 'x',
      description: 'd',
      source: NATIVE,
    });
    assert.equal(write.status, 404);
    const del = await other('DELETE', `/api/v1/policies/${defaults.inspect}`);
    assert.equal(del.status, 404);
  });

  it('lists only what each user may see', async () => {
    const bobOrgs = await outsider('GET', '/api/v1/orgs');
    assert.equal(bobOrgs.status, 200);
    assert.deepEqual(
      bobOrgs.body.items.map((o: { name: string }) => o.name),
      ['beta'],
    );
    assert.equal((await outsider('GET', '/api/v1/orgs/acme')).status, 404);
    const olgaProjects = await other('GET', '/api/v1/orgs/acme/projects');
    assert.deepEqual(
      olgaProjects.body.items.map((p: { name: string }) => p.name),
      ['other'],
    );
    const adminProjects = await control.admin('GET', '/api/v1/orgs/acme/projects');
    assert.deepEqual(
      adminProjects.body.items.map((p: { name: string }) => p.name),
      ['other', 'web'],
    );
  });

  it('lets a project owner manage their project, see the policies above it, and not change them', async () => {
    const created = await pat('POST', '/api/v1/orgs/acme/projects/web/policies', {
      name: 'web-only',
      description: 'd',
      source: NATIVE,
    });
    assert.equal(created.status, 201, created.text);
    const orgPolicies = await pat('GET', '/api/v1/orgs/acme/policies');
    assert.equal(orgPolicies.status, 200);
    const orgCreate = await pat('POST', '/api/v1/orgs/acme/policies', {
      name: 'org-wide',
      description: 'd',
      source: NATIVE,
    });
    assert.equal(orgCreate.status, 403);
    assert.equal(orgCreate.body.permission, 'Security::Manage');
    const byOrgOwner = await orgOwner('POST', '/api/v1/orgs/acme/policies', {
      name: 'org-wide',
      description: 'd',
      source: NATIVE,
    });
    assert.equal(byOrgOwner.status, 201, byOrgOwner.text);
    const applied = await pat('PUT', '/api/v1/orgs/acme/projects/web/assignment', {
      policy: byOrgOwner.body.id,
      enforced: false,
    });
    assert.equal(applied.status, 200, applied.text);
    // Not the org's own assignment.
    const orgAssign = await pat('PUT', '/api/v1/orgs/acme/assignment', {
      policy: byOrgOwner.body.id,
      enforced: true,
    });
    assert.equal(orgAssign.status, 403);
  });

  it('lets a project owner grant developer in their project, but no role beyond it', async () => {
    assert.equal((await control.admin('POST', '/api/v1/users', { name: 'dana' })).status, 201);
    const grant = await pat('POST', '/api/v1/orgs/acme/projects/web/role-bindings', {
      user: 'dana',
      role: 'developer',
    });
    assert.equal(grant.status, 201, grant.text);
    const up = await pat('POST', '/api/v1/orgs/acme/role-bindings', {
      user: 'dana',
      role: 'org-owner',
    });
    assert.equal(up.status, 403);
    const wrongKind = await control.admin('POST', '/api/v1/platform/role-bindings', {
      user: 'dana',
      role: 'developer',
    });
    assert.equal(wrongKind.status, 400);
    assert.equal(wrongKind.body.field, 'role');
    // Creating users is a platform matter.
    assert.equal((await pat('POST', '/api/v1/users', { name: 'eve' })).status, 403);
  });

  it('cuts the audit log down to the scopes a user holds Access on', async () => {
    const devEvents = await dev('GET', '/api/v1/events?limit=1000');
    assert.equal(devEvents.status, 200);
    for (const e of devEvents.body.items as Array<{ scope: string }>)
      assert.ok(e.scope.startsWith('orgs/acme/projects/web'), e.scope);
    assert.ok(devEvents.body.items.length > 0);
    const bobEvents = await outsider('GET', '/api/v1/events?limit=1000');
    for (const e of bobEvents.body.items as Array<{ scope: string }>)
      assert.ok(e.scope.startsWith('orgs/beta'), e.scope);
    const adminEvents = await control.admin('GET', '/api/v1/events?type=role.granted&limit=1000');
    assert.ok(adminEvents.body.items.length >= 5);
  });

  it('gives a custom role exactly its permissions, at its scope and beneath', async () => {
    assert.equal((await outsider('GET', '/api/v1/orgs/beta/policies')).status, 200);
    const write = await outsider('POST', '/api/v1/orgs/beta/policies', {
      name: 'x',
      description: 'd',
      source: NATIVE,
    });
    assert.equal(write.status, 403);
    assert.equal(write.body.permission, 'Security::Manage');
    const me = await outsider('GET', '/api/v1/me');
    assert.deepEqual(me.body.permissions, [
      { scope: 'orgs/beta', permissions: ['Security::Access'] },
    ]);
  });

  it('answers 401 without a valid token and records auth.failed', async () => {
    const none = await control.as(undefined)('GET', '/api/v1/orgs');
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'unauthenticated');
    assert.match(none.headers.get('www-authenticate')!, /^Bearer/);
    const wrong = await control.as('egress_not-a-token')('GET', '/api/v1/orgs');
    assert.equal(wrong.status, 401);
    const failed = await control.admin('GET', '/api/v1/events?type=auth.failed');
    assert.ok(failed.body.items.length >= 2);
    assert.equal(failed.body.items[0].severity, 'warning');
    assert.match(failed.body.items[0].description, /Failed login from/);
  });
});
