/**
 * The store suite, run against every backend by store.test.ts (the same body for SQLite and
 * PostgreSQL): scopes, policies and versions, assignments, users, tokens, roles, nodes,
 * settings, the change revision and its notifications, transactions.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  AlreadyExistsError,
  InUseError,
  InvalidError,
  NotFoundError,
  VersionConflictError,
  type ChangeNotice,
  type Scope,
  type Store,
} from '../../src/control/store/store.js';
import { hashToken } from '../../src/control/store/token-hash.js';
import type { StoreHarness } from '../helpers/stores.js';

const NATIVE = { version: 1, name: 'p', mode: 'restrict', rules: [{ allow: ['example.com'] }] };

async function tree(store: Store): Promise<{ org: Scope; project: Scope; ws: Scope }> {
  const platform = await store.platform();
  const org = await store.createScope({
    parentId: platform.id,
    kind: 'organisation',
    name: 'acme',
  });
  const project = await store.createScope({ parentId: org.id, kind: 'project', name: 'web' });
  const ws = await store.createScope({
    parentId: project.id,
    kind: 'workspace',
    name: 'ws1',
    metadata: { role: 'ci' },
  });
  return { org, project, ws };
}

function content(source: string, native: unknown = NATIVE, author: string | null = null) {
  return { format: 'native', source, native, author };
}

/** Waits until `predicate` holds (notifications arrive asynchronously on PostgreSQL). */
async function until(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function storeCases(h: () => StoreHarness): void {
  it('creates scopes addressed by path, unique among siblings, with the name rules', async () => {
    const store = await h().fresh();
    const { org, project, ws } = await tree(store);
    assert.equal(ws.path, 'orgs/acme/projects/web/workspaces/ws1');
    assert.deepEqual(ws.metadata, { role: 'ci' });
    assert.equal(project.app, 'web', 'the app name defaults to the project name');
    assert.equal((await store.getScopeByPath('orgs/acme/projects/web'))?.id, project.id);
    assert.equal((await store.getProjectByApp('web'))?.id, project.id);
    assert.deepEqual(
      (await store.scopeChain(ws.id)).map((s) => s.kind),
      ['platform', 'organisation', 'project', 'workspace'],
    );
    await assert.rejects(
      store.createScope({ parentId: org.id, kind: 'project', name: 'web', app: 'other' }),
      (e: unknown) =>
        e instanceof AlreadyExistsError && e.field === 'name' && /orgs\/acme/.test(e.message),
    );
    // Same name under another parent is fine; the app name is platform-unique.
    const other = await store.createScope({
      parentId: 'platform',
      kind: 'organisation',
      name: 'other',
    });
    await assert.rejects(
      store.createScope({ parentId: other.id, kind: 'project', name: 'web' }),
      (e: unknown) => e instanceof AlreadyExistsError && e.field === 'app',
    );
    const web2 = await store.createScope({
      parentId: other.id,
      kind: 'project',
      name: 'web',
      app: 'web-other',
    });
    assert.equal(web2.path, 'orgs/other/projects/web');
    for (const name of ['', 'a b', 'x'.repeat(64), '..', 'ünï']) {
      await assert.rejects(
        store.createScope({ parentId: org.id, kind: 'project', name }),
        (e: unknown) => e instanceof InvalidError && e.field === 'name',
        name,
      );
    }
    await assert.rejects(
      store.createScope({ parentId: ws.id, kind: 'workspace', name: 'x' }),
      (e: unknown) => e instanceof InvalidError && e.field === 'parentId',
    );
    assert.deepEqual(
      (await store.listScopes({ under: 'orgs/acme' })).map((s) => s.path),
      ['orgs/acme', 'orgs/acme/projects/web', 'orgs/acme/projects/web/workspaces/ws1'],
    );
    assert.deepEqual(
      (await store.listScopes({ kind: 'project' })).map((s) => s.path),
      ['orgs/acme/projects/web', 'orgs/other/projects/web'],
    );
    assert.deepEqual(
      (await store.listChildren(project.id)).map((s) => s.name),
      ['ws1'],
    );

    const updated = await store.updateScope(ws.id, {
      metadata: { role: 'dev' },
      tokenSha256: hashToken('ws'),
    });
    assert.deepEqual(updated.metadata, { role: 'dev' });
    assert.equal(updated.tokenSha256, hashToken('ws'));
    await assert.rejects(store.updateScope(ws.id, { metadata: { n: 1 } as never }), InvalidError);

    await assert.rejects(
      store.deleteScope(project.id),
      (e: unknown) => e instanceof InUseError && e.users[0] === ws.path,
    );
    await store.deleteScope(ws.id);
    assert.equal(await store.getScope(ws.id), null);
    await assert.rejects(store.deleteScope('platform'), InvalidError);
    await assert.rejects(store.deleteScope(ws.id), NotFoundError);
  });

  it('saves every policy change as a new immutable version, refusing a stale expected version', async () => {
    const store = await h().fresh();
    const { org, project } = await tree(store);
    const created = await store.createPolicy({
      scopeId: org.id,
      name: 'base',
      description: 'the base',
      ...content('v1 text'),
    });
    assert.equal(created.policy.currentVersion, 1);
    assert.equal(created.policy.scopePath, 'orgs/acme');
    assert.equal(created.version.version, 1);
    assert.match(created.version.contentHash, /^sha256:[0-9a-f]{64}$/);

    const second = await store.updatePolicy(created.policy.id, 1, {
      ...content('v2 text', { ...NATIVE, mode: 'monitor' }),
      description: 'changed',
    });
    assert.equal(second.policy.currentVersion, 2);
    assert.equal(second.policy.description, 'changed');
    await assert.rejects(
      store.updatePolicy(created.policy.id, 1, content('v3 from a stale read')),
      (e: unknown) =>
        e instanceof VersionConflictError && e.expectedVersion === 1 && e.currentVersion === 2,
    );
    // Two saves from the same read race: exactly one wins.
    const race = await Promise.allSettled([
      store.updatePolicy(created.policy.id, 2, content('a')),
      store.updatePolicy(created.policy.id, 2, content('b')),
    ]);
    assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1);
    assert.ok(
      race.some((r) => r.status === 'rejected' && r.reason instanceof VersionConflictError),
    );

    const versions = await store.listPolicyVersions(created.policy.id);
    assert.deepEqual(
      versions.map((v) => v.version),
      [1, 2, 3],
    );
    assert.equal(versions[0]!.source, 'v1 text', 'version 1 is unchanged');
    assert.deepEqual(versions[0]!.native, NATIVE);
    assert.equal((await store.getPolicyVersion(created.policy.id, 2))?.source, 'v2 text');
    // The content hash depends on the policy, not on key order.
    const reordered = Object.fromEntries(Object.entries(NATIVE).reverse());
    const restored = await store.updatePolicy(
      created.policy.id,
      3,
      content('restore of v1', reordered),
    );
    assert.equal(restored.version.contentHash, versions[0]!.contentHash);

    await assert.rejects(
      store.createPolicy({ scopeId: org.id, name: 'base', description: 'again', ...content('x') }),
      (e: unknown) => e instanceof AlreadyExistsError && e.field === 'name',
    );
    const sameName = await store.createPolicy({
      scopeId: project.id,
      name: 'base',
      description: 'another scope',
      ...content('x'),
    });
    await assert.rejects(
      store.createPolicy({ scopeId: org.id, name: 'empty', description: ' ', ...content('x') }),
      (e: unknown) => e instanceof InvalidError && e.field === 'description',
    );
    // Policy names are free text (the built-in defaults have spaces and parentheses).
    const spaced = await store.createPolicy({
      scopeId: org.id,
      name: 'Monitor Traffic (default)',
      description: 'built-in',
      ...content('x'),
    });
    assert.equal(spaced.policy.name, 'Monitor Traffic (default)');
    await store.deletePolicy(spaced.policy.id);
    for (const bad of ['', '   ', 'two\nlines'])
      await assert.rejects(
        store.createPolicy({ scopeId: org.id, name: bad, description: 'd', ...content('x') }),
        (e: unknown) => e instanceof InvalidError && e.field === 'name',
      );
    const ws = (await store.getScopeByPath('orgs/acme/projects/web/workspaces/ws1'))!;
    await assert.rejects(
      store.createPolicy({ scopeId: ws.id, name: 'p', description: 'd', ...content('x') }),
      (e: unknown) => e instanceof InvalidError && e.field === 'scope',
    );
    assert.deepEqual(
      (await store.listPolicies([org.id, project.id])).map((p) => p.id),
      [created.policy.id, sameName.policy.id],
    );
    assert.equal((await store.getPolicyByName(project.id, 'base'))?.id, sameName.policy.id);

    await store.setAssignment(project.id, {
      policyId: created.policy.id,
      enforced: false,
      by: null,
    });
    await assert.rejects(
      store.deletePolicy(created.policy.id),
      (e: unknown) => e instanceof InUseError && e.users.join() === 'orgs/acme/projects/web',
    );
    await store.clearAssignment(project.id);
    await assert.rejects(store.deletePolicy(created.policy.id, 1), VersionConflictError);
    await store.deletePolicy(created.policy.id, 4);
    assert.equal(await store.getPolicy(created.policy.id), null);
    assert.deepEqual(await store.listPolicyVersions(created.policy.id), []);
  });

  it('keeps at most one assignment per scope (upsert) and bumps the revision on each change', async () => {
    const store = await h().fresh();
    const { org, project, ws } = await tree(store);
    const { policy } = await store.createPolicy({
      scopeId: org.id,
      name: 'p',
      description: 'd',
      ...content('x'),
    });
    const before = await store.revision();
    const first = await store.setAssignment(ws.id, {
      policyId: policy.id,
      enforced: false,
      by: 'u1',
    });
    assert.equal(first.scopePath, ws.path);
    const second = await store.setAssignment(ws.id, { policyId: null, enforced: true, by: 'u2' });
    assert.equal(second.policyId, null);
    assert.deepEqual(await store.listAssignments([ws.id]), [second]);
    assert.equal(await store.revision(), before + 2);
    await store.setAssignment(project.id, { policyId: policy.id, enforced: true, by: null });
    assert.deepEqual(
      (await store.assignmentsOfPolicy(policy.id)).map((a) => a.scopePath),
      [project.path],
    );
    assert.equal((await store.listAssignments()).length, 2);
    await assert.rejects(
      store.setAssignment(ws.id, { policyId: 'no-such-policy', enforced: false, by: null }),
      NotFoundError,
    );
    assert.equal(await store.clearAssignment(ws.id), true);
    assert.equal(await store.clearAssignment(ws.id), false);
    assert.equal(await store.getAssignment(ws.id), null);
    const changes = await store.changesSince(before);
    assert.deepEqual(
      changes.map((c) => [c.kind, c.scope]),
      [
        ['assignment.set', ws.path],
        ['assignment.set', ws.path],
        ['assignment.set', project.path],
        ['assignment.cleared', ws.path],
      ],
    );
    assert.deepEqual(
      changes.map((c) => c.revision),
      [before + 1, before + 2, before + 3, before + 4],
    );
  });

  it('finds tokens only by their hash, refuses revoked and expired ones, records use', async () => {
    const store = await h().fresh();
    const user = await store.createUser({ name: 'alice', kind: 'human', displayName: 'Alice' });
    await assert.rejects(store.createUser({ name: 'alice', kind: 'service' }), AlreadyExistsError);
    const token = await store.createToken({
      userId: user.id,
      name: 'cli',
      tokenSha256: hashToken('s3cret'),
    });
    await assert.rejects(
      store.createToken({ userId: user.id, name: 'plain', tokenSha256: 's3cret' }),
      (e: unknown) => e instanceof InvalidError && e.field === 'tokenSha256',
    );
    assert.equal((await store.findTokenByHash(hashToken('s3cret')))?.id, token.id);
    assert.equal(await store.findTokenByHash(hashToken('other')), null);
    const auth = await store.authenticateToken(hashToken('s3cret'));
    assert.equal(auth?.user.name, 'alice');
    assert.ok(auth?.token.lastUsedAt);

    const expired = await store.createToken({
      userId: user.id,
      name: 'old',
      tokenSha256: hashToken('old'),
      expiresAt: '2020-01-01T00:00:00.000Z',
    });
    assert.equal(await store.authenticateToken(hashToken('old')), null);
    assert.equal((await store.findTokenByHash(hashToken('old')))?.id, expired.id);

    assert.equal(await store.revokeToken(token.id), true);
    assert.equal(await store.authenticateToken(hashToken('s3cret')), null);
    assert.ok((await store.findTokenByHash(hashToken('s3cret')))?.revokedAt);
    assert.equal(await store.revokeToken('nope'), false);
    assert.equal((await store.listTokens(user.id)).length, 2);

    await store.deleteUser(user.id);
    assert.equal(await store.findTokenByHash(hashToken('old')), null, "a user's tokens go with it");
  });

  it('grants roles per scope idempotently, and keeps custom roles', async () => {
    const store = await h().fresh();
    const { org, project } = await tree(store);
    const bob = await store.createUser({ name: 'bob', kind: 'human' });
    const first = await store.grantRole({
      userId: bob.id,
      role: 'org-owner',
      scopeId: org.id,
      by: null,
    });
    const again = await store.grantRole({
      userId: bob.id,
      role: 'org-owner',
      scopeId: org.id,
      by: 'x',
    });
    assert.deepEqual(again, first);
    await store.putCustomRole({
      name: 'auditor',
      description: 'reads',
      permissions: ['Security::Access'],
    });
    await store.grantRole({ userId: bob.id, role: 'auditor', scopeId: project.id, by: null });
    assert.deepEqual(
      (await store.listRoleBindings({ userId: bob.id })).map((b) => [b.role, b.scopePath]),
      [
        ['org-owner', 'orgs/acme'],
        ['auditor', 'orgs/acme/projects/web'],
      ],
    );
    assert.equal((await store.listRoleBindings({ scopeId: project.id })).length, 1);
    await assert.rejects(store.deleteCustomRole('auditor'), InUseError);
    assert.equal(
      await store.revokeRole({ userId: bob.id, role: 'auditor', scopeId: project.id }),
      true,
    );
    assert.equal(
      await store.revokeRole({ userId: bob.id, role: 'auditor', scopeId: project.id }),
      false,
    );
    const changed = await store.putCustomRole({
      name: 'auditor',
      description: 'reads more',
      permissions: ['Security::Access', 'Security::Access'],
    });
    assert.deepEqual(changed.permissions, ['Security::Access']);
    assert.deepEqual(
      (await store.listCustomRoles()).map((r) => r.description),
      ['reads more'],
    );
    assert.equal(await store.deleteCustomRole('auditor'), true);
    assert.equal(await store.getCustomRole('auditor'), null);
  });

  it('registers nodes by token hash and records what they report', async () => {
    const store = await h().fresh();
    const node = await store.createNode({ name: 'edge-1', tokenSha256: hashToken('node') });
    assert.equal(node.scopeId, 'platform');
    await assert.rejects(
      store.createNode({ name: 'edge-1', tokenSha256: hashToken('n2') }),
      AlreadyExistsError,
    );
    assert.equal((await store.findNodeByTokenHash(hashToken('node')))?.id, node.id);
    const seen = await store.recordNodeContact(node.id, {
      version: '0.1.0',
      revision: 7,
      eventsPending: 12,
      at: new Date('2026-12-04T10:00:00Z'),
    });
    assert.deepEqual(
      [seen.version, seen.revision, seen.eventsPending, seen.lastContactAt],
      ['0.1.0', 7, 12, '2026-12-04T10:00:00.000Z'],
    );
    assert.deepEqual(
      (await store.listNodes()).map((n) => n.name),
      ['edge-1'],
    );
    assert.equal(await store.deleteNode(node.id), true);
    await assert.rejects(store.recordNodeContact(node.id, {}), NotFoundError);
  });

  it('rolls a failed transaction back whole, and notifies only committed changes', async () => {
    const store = await h().fresh();
    const notices: ChangeNotice[] = [];
    const stop = await store.listen((n) => notices.push(n));
    const before = await store.revision();
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.createScope({ parentId: 'platform', kind: 'organisation', name: 'gone' });
        await tx.createUser({ name: 'ghost', kind: 'service' });
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal(await store.getScopeByPath('orgs/gone'), null);
    assert.equal(await store.getUserByName('ghost'), null);
    assert.equal(await store.revision(), before);

    const org = await store.transaction(async (tx) => {
      const created = await tx.createScope({
        parentId: 'platform',
        kind: 'organisation',
        name: 'kept',
      });
      await tx.transaction(async (inner) =>
        inner.createUser({ name: 'kept-user', kind: 'service' }),
      );
      return created;
    });
    await until(() => notices.length >= 1, 'the change notice');
    assert.deepEqual(
      notices.map((n) => [n.kind, n.scope, n.subject, n.revision]),
      [['scope.created', 'orgs/kept', org.id, before + 1]],
    );
    assert.ok(await store.getUserByName('kept-user'));
    await stop();
  });

  it('keeps settings with defaults and refuses unknown or bad ones', async () => {
    const store = await h().fresh();
    assert.deepEqual(await store.getSettings(), { retentionDays: 90 });
    assert.deepEqual(await store.updateSettings({ retentionDays: 7 }), { retentionDays: 7 });
    assert.deepEqual(await store.updateSettings({ retentionDays: null }), { retentionDays: null });
    await assert.rejects(store.updateSettings({ retentionDays: 0 }), InvalidError);
    await assert.rejects(store.updateSettings({ colour: 'red' } as never), InvalidError);
  });

  it('delivers change notices from another store on the same database (replicas)', async (t) => {
    const harness = h();
    if (harness.backend === 'sqlite') {
      t.skip('SQLite notifies listeners in the process that made the change only');
      return;
    }
    const location = await harness.freshLocation();
    const a = await harness.reopen(location);
    const b = await harness.reopen(location);
    const seen: ChangeNotice[] = [];
    const stop = await a.listen((n) => seen.push(n));
    const policyScope = await b.createScope({
      parentId: 'platform',
      kind: 'organisation',
      name: 'far',
    });
    await until(() => seen.length === 1, 'NOTIFY egress_changes from the other store');
    assert.equal(seen[0]!.subject, policyScope.id);
    assert.equal(seen[0]!.revision, await a.revision());
    await stop();
  });
}
