/**
 * Issue 14's "done means", as a new user does it: `egress serve` on its defaults (SQLite in the
 * data directory; PostgreSQL with --db), the admin token from its first start, then curl:
 * create an organisation, a project and two workspaces, enforce a policy at the organisation,
 * see a project owner refused when replacing it (409), test a policy, download the overview
 * CSV, and find the policy.enforced event in the audit query.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeProcess } from '../helpers/control.js';
import { startPostgres, withoutPostgres, type PostgresServer } from '../helpers/postgres.js';
import { run } from '../helpers/run.js';

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked field by field in the tests
  body: any;
  text: string;
}

async function curl(method: string, url: string, token: string, body?: unknown): Promise<Answer> {
  const args = [
    '-sS',
    '-X',
    method,
    '-H',
    `Authorization: Bearer ${token}`,
    '-w',
    '\n%{http_code}',
  ];
  if (body !== undefined)
    args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
  const r = await run('curl', [...args, url]);
  assert.equal(r.code, 0, r.stderr);
  const cut = r.stdout.lastIndexOf('\n');
  const text = r.stdout.slice(0, cut);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: Number(r.stdout.slice(cut + 1)), body: parsed, text };
}

const STRICT = `version: 1
name: Strict
mode: restrict
rules:
  - allow: [github.com, "**.github.com", pypi.org]
tests:
  - { dest: "api.github.com", expect: allow }
  - { dest: "pastebin.com", expect: deny }
`;

function walk(
  name: string,
  skip: string | false,
  serveArgs: () => Promise<string[]>,
  cleanup: () => Promise<void>,
) {
  describe(`egress serve walk on ${name}`, { skip }, () => {
    let serve: ServeProcess;
    let token: string;
    let api: string;
    before(async () => {
      serve = await startServe({ args: await serveArgs(), env: { EGRESS_ADMIN_TOKEN: '' } });
      api = serve.url + '/api/v1';
    });
    after(async () => {
      await serve?.stop();
      await cleanup();
    });

    it('prints the admin token once on stderr and writes it to DIR/admin-token (0600)', () => {
      const m = /^admin token: (\S+)$/m.exec(serve.stderr());
      assert.ok(m, serve.stderr());
      token = m[1]!;
      const file = join(serve.dataDir, 'admin-token');
      assert.equal(readFileSync(file, 'utf8').trim(), token);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.match(serve.stdout(), /listening on http:\/\/127\.0\.0\.1:\d+/);
    });

    let strictId: string;
    let monitorId: string;
    it('creates an organisation, a project (with its three default policies) and two workspaces', async () => {
      assert.equal((await curl('POST', `${api}/orgs`, token, { name: 'acme' })).status, 201);
      const project = await curl('POST', `${api}/orgs/acme/projects`, token, { name: 'web' });
      assert.equal(project.status, 201, project.text);
      assert.equal(project.body.app, 'web');
      for (const ws of ['ws1', 'ws2']) {
        const r = await curl('POST', `${api}/orgs/acme/projects/web/workspaces`, token, {
          name: ws,
          metadata: { role: ws },
        });
        assert.equal(r.status, 201, r.text);
      }
      const list = await curl('GET', `${api}/orgs/acme/projects/web/workspaces`, token);
      assert.deepEqual(
        list.body.items.map((w: { name: string }) => w.name),
        ['ws1', 'ws2'],
      );
      const policies = await curl('GET', `${api}/orgs/acme/projects/web/policies`, token);
      assert.deepEqual(
        policies.body.items.map((p: { name: string; mode: string }) => [p.name, p.mode]),
        [
          ['Monitor Traffic (default)', 'monitor'],
          ['Restrict Traffic (default, expert)', 'restrict'],
          ['Inspect Traffic (default, expert)', 'inspect'],
        ],
      );
      monitorId = policies.body.items[0].id;
    });

    it('enforces a policy at the organisation', async () => {
      const created = await curl('POST', `${api}/orgs/acme/policies`, token, {
        name: 'Strict',
        description: 'Only GitHub and PyPI',
        source: STRICT,
      });
      assert.equal(created.status, 201, created.text);
      strictId = created.body.id;
      const enforced = await curl('PUT', `${api}/orgs/acme/assignment`, token, {
        policy: strictId,
        enforced: true,
      });
      assert.equal(enforced.status, 200, enforced.text);
      assert.deepEqual(enforced.body.policy, { id: strictId, name: 'Strict', version: 1 });
      const effective = await curl(
        'GET',
        `${api}/orgs/acme/projects/web/workspaces/ws1/effective-policy`,
        token,
      );
      assert.equal(effective.body.step, 'enforced');
      assert.equal(effective.body.scope, 'orgs/acme');
      assert.equal(effective.body.locked, true);
      assert.equal(effective.body.policy.id, strictId);
    });

    it('refuses a project owner replacing it (409 naming the enforcing scope)', async () => {
      assert.equal((await curl('POST', `${api}/users`, token, { name: 'pat' })).status, 201);
      const t = await curl('POST', `${api}/users/pat/tokens`, token, { name: 'pat laptop' });
      assert.equal(t.status, 201);
      const grant = await curl('POST', `${api}/orgs/acme/projects/web/role-bindings`, token, {
        user: 'pat',
        role: 'project-owner',
      });
      assert.equal(grant.status, 201, grant.text);
      const refused = await curl('PUT', `${api}/orgs/acme/projects/web/assignment`, t.body.token, {
        policy: monitorId,
        enforced: false,
      });
      assert.equal(refused.status, 409, refused.text);
      assert.equal(refused.body.code, 'policy_locked');
      assert.equal(refused.body.enforcedBy.scope, 'orgs/acme');
      assert.equal(refused.body.enforcedBy.policy.id, strictId);
      assert.match(refused.body.detail, /acme/);
      const ws = await curl(
        'PUT',
        `${api}/orgs/acme/projects/web/workspaces/ws2/assignment`,
        t.body.token,
        { policy: monitorId, enforced: false },
      );
      assert.equal(ws.status, 409);
    });

    it('tests a policy: the same answer as egress check --json', async () => {
      const r = await curl('POST', `${api}/policies/${strictId}/test`, token, {
        destinations: ['api.github.com', 'pastebin.com', 'udp://pypi.org:53'],
      });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(
        r.body.map((d: { destination: string; verdict: string; allowed: boolean }) => [
          d.destination,
          d.verdict,
          d.allowed,
        ]),
        [
          ['api.github.com', 'allow', true],
          ['pastebin.com', 'deny', false],
          ['udp://pypi.org:53', 'deny', false],
        ],
      );
      assert.match(r.body[0].rule.source, /^source:5:/);
    });

    it('downloads the overview CSV', async () => {
      const r = await run('curl', [
        '-sS',
        '-D',
        '-',
        '-H',
        `Authorization: Bearer ${token}`,
        `${api}/overview?format=csv`,
      ]);
      assert.equal(r.code, 0);
      const [head, body] = r.stdout.split('\r\n\r\n');
      assert.match(head!, /content-type: text\/csv/i);
      assert.match(
        head!,
        /content-disposition: attachment; filename="egress-overview-\d{4}-\d{2}-\d{2}\.csv"/i,
      );
      const lines = body!.trim().split('\r\n');
      assert.match(
        lines[0]!,
        /^scope,kind,name,policy,policy_id,policy_version,status,effective_policy/,
      );
      assert.ok(
        lines.some((l) =>
          l.startsWith(`orgs/acme,organisation,acme,Strict,${strictId},1,Enforced`),
        ),
        body,
      );
      assert.ok(
        lines.some((l) =>
          /^orgs\/acme\/projects\/web\/workspaces\/ws1,workspace,ws1,,,,None,Strict,.*,enforced,orgs\/acme$/.test(
            l,
          ),
        ),
        body,
      );
    });

    it('finds the policy.enforced event in the audit query', async () => {
      const r = await curl('GET', `${api}/events?type=policy.enforced&q=Strict`, token);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.items.length, 1);
      const e = r.body.items[0];
      assert.equal(e.user, 'admin');
      assert.equal(e.scope, 'orgs/acme');
      assert.deepEqual(e.after, { id: strictId, name: 'Strict', version: 1 });
      assert.equal(e.before, null);
      assert.match(e.description, /enforced policy "Strict" \(version 1\) on organisation acme/);
    });
  });
}

walk(
  'SQLite',
  false,
  async () => [],
  async () => {},
);

let pgServer: PostgresServer | undefined;
walk(
  'PostgreSQL',
  withoutPostgres(),
  async () => {
    pgServer = await startPostgres();
    return ['--db', await pgServer.createDatabase()];
  },
  async () => pgServer?.stop(),
);
