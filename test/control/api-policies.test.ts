/**
 * Policies through the API: every format of DESIGN.md 4 stored as written and enforced as
 * converted, versions with ETag/If-Match (428 without, 412 when stale), list/read/diff/restore,
 * LINE:COL problems for bad policy text, the policy's own tests and the tests down the
 * hierarchy, deleting a policy in use refused with the scopes named.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { seedAcme, startSqliteControl } from '../helpers/control-app.js';

const fixture = (path: string) => readFileSync(`test/fixtures/${path}`, 'utf8');

describe('policies through the API', () => {
  let control: Awaited<ReturnType<typeof startSqliteControl>>;
  let defaults: Record<string, string>;
  before(async () => {
    control = await startSqliteControl();
    ({ defaults } = await seedAcme(control.admin));
  });
  after(async () => control?.close());

  it('saves versions under If-Match: 428 without it, 412 when stale, a new ETag each time', async () => {
    const api = control.admin;
    const created = await api('POST', '/api/v1/orgs/acme/policies', {
      name: 'Editors',
      description: 'edited twice',
      source: 'version: 1\nname: e\nmode: restrict\nrules:\n  - allow: [github.com]\n',
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.get('etag'), '"v1"');
    assert.equal(created.headers.get('location'), `/api/v1/policies/${created.body.id}`);
    const id = created.body.id;
    const read = await api('GET', `/api/v1/policies/${id}`);
    assert.equal(read.headers.get('etag'), '"v1"');
    assert.match(read.body.native, /github\.com/);

    const change = {
      source: 'version: 1\nname: e\nmode: restrict\nrules:\n  - allow: [github.com, gitlab.com]\n',
    };
    const missing = await api('PUT', `/api/v1/policies/${id}`, change);
    assert.equal(missing.status, 428);
    assert.equal(missing.body.code, 'precondition_required');
    const first = await api('PUT', `/api/v1/policies/${id}`, change, { 'if-match': '"v1"' });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('etag'), '"v2"');
    assert.equal(first.body.version, 2);
    // A second editor who read version 1 cannot overwrite version 2 unseen.
    const second = await api(
      'PUT',
      `/api/v1/policies/${id}`,
      { description: 'mine' },
      { 'if-match': '"v1"' },
    );
    assert.equal(second.status, 412);
    assert.equal(second.body.code, 'version_conflict');
    assert.equal(second.body.currentVersion, 2);
    assert.equal(second.headers.get('etag'), '"v2"');
    assert.equal((await api('GET', `/api/v1/policies/${id}`)).body.description, 'edited twice');
    const bad = await api(
      'PUT',
      `/api/v1/policies/${id}`,
      { description: 'x' },
      { 'if-match': 'yesterday' },
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'header.if-match');

    const versions = await api('GET', `/api/v1/policies/${id}/versions`);
    assert.deepEqual(
      versions.body.items.map((v: { version: number }) => v.version),
      [1, 2],
    );
    assert.equal(versions.body.items[1].author, 'admin');
    const v1 = await api('GET', `/api/v1/policies/${id}/versions/1`);
    assert.match(v1.body.source, /allow: \[github\.com\]\n$/);
    const diff = await api('GET', `/api/v1/policies/${id}/diff?from=1&to=2`);
    assert.equal(
      diff.body.diff,
      '--- v1\n+++ v2\n@@ -2,4 +2,4 @@\n name: e\n mode: restrict\n rules:\n-  - allow: [github.com]\n+  - allow: [github.com, gitlab.com]\n',
    );
    const restored = await api('POST', `/api/v1/policies/${id}/versions/1/restore`, undefined, {
      'if-match': '"v2"',
    });
    assert.equal(restored.status, 200, restored.text);
    assert.equal(restored.body.version, 3);
    assert.equal(restored.body.source, v1.body.source);
    const updated = await api('GET', `/api/v1/events?type=policy.updated&scope=orgs/acme`);
    assert.equal(updated.body.items[0].restoredFrom, 1);
    assert.deepEqual(updated.body.items[0].before, { id, name: 'Editors', version: 2 });
    assert.deepEqual(updated.body.items[0].after, { id, name: 'Editors', version: 3 });
  });

  it('answers bad policy text with 400 and the LINE:COL of each error', async () => {
    const r = await control.admin('POST', '/api/v1/orgs/acme/policies', {
      name: 'Broken',
      description: 'typo',
      source: 'version: 1\nname: b\nmode: restrict\nrules:\n  - alow: [github.com]\n',
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_policy');
    assert.equal(r.body.field, 'source');
    const e = r.body.errors[0];
    assert.equal(e.location, `${e.line}:${e.col}`);
    assert.equal(e.line, 5);
    assert.match(r.body.detail, /^source 5:\d+: /);
    assert.match(JSON.stringify(r.body.errors), /allow/);
    // Nothing was half stored.
    const list = await control.admin('GET', '/api/v1/orgs/acme/policies');
    assert.ok(!list.body.items.some((p: { name: string }) => p.name === 'Broken'));

    const unknownFormat = await control.admin('POST', '/api/v1/orgs/acme/policies', {
      name: 'X',
      description: 'd',
      format: 'cisco',
      source: 'x',
    });
    assert.equal(unknownFormat.status, 400);
    assert.equal(unknownFormat.body.field, 'format');
    const wrongFormat = await control.admin('POST', '/api/v1/orgs/acme/policies', {
      name: 'X',
      description: 'd',
      format: 'sds',
      source: fixture('fly/valid-web.json'),
    });
    assert.equal(wrongFormat.status, 400);
    assert.ok(wrongFormat.body.errors[0].line >= 1);
  });

  it('stores an SDS YAML and a Harden-Runner workflow as written and enforces them as converted', async () => {
    const sds = fixture('sds/valid/restrict.yaml');
    const created = await control.admin('POST', '/api/v1/orgs/acme/projects/web/policies', {
      name: 'Data science',
      description: 'SDS expert mode',
      format: 'sds',
      source: sds,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.source, sds);
    assert.equal(created.body.format, 'sds');
    assert.equal(created.body.mode, 'restrict');
    const tested = await control.admin('POST', `/api/v1/policies/${created.body.id}/test`, {
      destinations: ['pypi.org', 'api.github.com', 'evil.example', '10.40.1.2:443'],
    });
    assert.deepEqual(
      tested.body.map((d: { verdict: string }) => d.verdict),
      ['allow', 'allow', 'deny', 'allow'],
    );

    const hr = fixture('harden-runner/valid/single-job.yml');
    const workflow = await control.admin('POST', '/api/v1/orgs/acme/projects/web/policies', {
      name: 'Build',
      description: 'the CI job',
      format: 'harden-runner',
      source: hr,
    });
    assert.equal(workflow.status, 201, workflow.text);
    assert.equal(workflow.body.source, hr);
    const hrTest = await control.admin('POST', `/api/v1/policies/${workflow.body.id}/test`, {
      destinations: ['api.github.com', 'github.com:22'],
    });
    assert.deepEqual(
      hrTest.body.map((d: { verdict: string }) => d.verdict),
      ['allow', 'deny'],
    );
  });

  it("resolves Harden-Runner's policy: NAME from the policies at the scope and above", async () => {
    const stored = await control.admin('POST', '/api/v1/orgs/acme/policies', {
      name: 'release-policy',
      description: 'the named policy of the release workflow',
      format: 'harden-runner',
      // A policy-store entry that is also a valid with: block on its own.
      source:
        'egress-policy: block\nallowed-endpoints: >\n  github.com:443\n  registry.npmjs.org:443\n',
    });
    assert.equal(stored.status, 201, stored.text);
    const named = await control.admin('POST', '/api/v1/orgs/acme/projects/web/policies', {
      name: 'Release',
      description: 'uses the named policy',
      format: 'harden-runner',
      source: fixture('harden-runner/valid/named-policy.yml'),
    });
    assert.equal(named.status, 201, JSON.stringify(named.body, null, 1));
    const t = await control.admin('POST', `/api/v1/policies/${named.body.id}/test`, {
      destinations: ['registry.npmjs.org', 'example.com'],
    });
    assert.deepEqual(
      t.body.map((d: { verdict: string }) => d.verdict),
      ['allow', 'deny'],
    );
    // Not from a sibling or beneath: the platform cannot see the org's store.
    const platform = await control.admin('POST', '/api/v1/platform/policies', {
      name: 'Release',
      description: 'no store here',
      format: 'harden-runner',
      source: fixture('harden-runner/valid/named-policy.yml'),
    });
    assert.equal(platform.status, 400);
    assert.match(platform.body.detail, /release-policy/);
  });

  it("refuses a policy whose own tests fail (422 with each case's LINE:COL)", async () => {
    const r = await control.admin('POST', '/api/v1/orgs/acme/policies', {
      name: 'Self-contradicting',
      description: 'its tests fail',
      source:
        'version: 1\nname: s\nmode: restrict\nrules:\n  - allow: [github.com]\ntests:\n  - { dest: "github.com", expect: allow }\n  - { dest: "pastebin.com", expect: allow }\n',
    });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.body.code, 'policy_tests_failed');
    assert.equal(r.body.errors.length, 1);
    assert.equal(r.body.errors[0].line, 8);
  });

  it('refuses an assignment that breaks a policy test in a workspace beneath it', async () => {
    const api = control.admin;
    const project = await api('POST', '/api/v1/orgs/acme/projects/web/policies', {
      name: 'Needs GitHub',
      description: 'the project needs github.com',
      source:
        'version: 1\nname: n\nmode: restrict\nrules:\n  - allow: [github.com]\ntests:\n  - { dest: "github.com", expect: allow }\n',
    });
    assert.equal(project.status, 201, project.text);
    assert.equal(
      (
        await api('PUT', '/api/v1/orgs/acme/projects/web/assignment', {
          policy: project.body.id,
          enforced: false,
        })
      ).status,
      200,
    );
    const lockdown = await api('POST', '/api/v1/orgs/acme/policies', {
      name: 'Lockdown',
      description: 'nothing out',
      source: 'version: 1\nname: l\nmode: restrict\nrules: []\n',
    });
    assert.equal(lockdown.status, 201, lockdown.text);
    const refused = await api('PUT', '/api/v1/orgs/acme/assignment', {
      policy: lockdown.body.id,
      enforced: true,
    });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.body.code, 'policy_tests_failed');
    const failure = refused.body.failures[0];
    assert.equal(failure.dest, 'github.com');
    assert.equal(failure.expected, 'allow');
    assert.equal(failure.actual, 'deny');
    assert.equal(failure.policy.id, project.body.id);
    assert.equal((await api('GET', '/api/v1/orgs/acme/assignment')).body.policy, null);
    // Back to the default so later cases start clean.
    assert.equal(
      (
        await api('PUT', '/api/v1/orgs/acme/projects/web/assignment', {
          policy: null,
          enforced: false,
        })
      ).status,
      200,
    );
  });

  it('refuses to delete a policy in use (409 naming the scopes), and deletes it once unused', async () => {
    const api = control.admin;
    assert.equal(
      (
        await api('PUT', '/api/v1/orgs/acme/projects/web/workspaces/ws1/assignment', {
          policy: defaults.restrict,
          enforced: false,
        })
      ).status,
      200,
    );
    assert.equal(
      (
        await api('PUT', '/api/v1/orgs/acme/projects/web/workspaces/ws2/assignment', {
          policy: defaults.restrict,
          enforced: false,
        })
      ).status,
      200,
    );
    const refused = await api('DELETE', `/api/v1/policies/${defaults.restrict}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'policy_in_use');
    assert.deepEqual(refused.body.scopes.sort(), [
      'orgs/acme/projects/web/workspaces/ws1',
      'orgs/acme/projects/web/workspaces/ws2',
    ]);
    const read = await api('GET', `/api/v1/policies/${defaults.restrict}`);
    assert.deepEqual(read.body.usedBy.sort(), refused.body.scopes.sort());
    for (const ws of ['ws1', 'ws2'])
      await api('PUT', `/api/v1/orgs/acme/projects/web/workspaces/${ws}/assignment`, {
        policy: null,
        enforced: false,
      });
    assert.equal(
      (
        await api('DELETE', `/api/v1/policies/${defaults.restrict}`, undefined, {
          'if-match': '"v9"',
        })
      ).status,
      412,
    );
    assert.equal((await api('DELETE', `/api/v1/policies/${defaults.restrict}`)).status, 204);
    assert.equal((await api('GET', `/api/v1/policies/${defaults.restrict}`)).status, 404);
    const deleted = await api('GET', '/api/v1/events?type=policy.deleted');
    assert.equal(deleted.body.items[0].before.id, defaults.restrict);
  });

  it('answers an assignment of a policy from below or beside with 422, of an unknown one with 404', async () => {
    const api = control.admin;
    const below = await api('PUT', '/api/v1/orgs/acme/assignment', {
      policy: defaults.monitor,
      enforced: false,
    });
    assert.equal(below.status, 422, below.text);
    assert.equal(below.body.errors[0].field, 'policy');
    const unknown = await api('PUT', '/api/v1/orgs/acme/assignment', {
      policy: 'no-such-policy',
      enforced: false,
    });
    assert.equal(unknown.status, 404);
    const enforceNothing = await api('PUT', '/api/v1/orgs/acme/assignment', {
      policy: null,
      enforced: true,
    });
    assert.equal(enforceNothing.status, 400);
  });
});
