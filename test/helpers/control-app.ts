/**
 * The control plane in the test process: a real store (a SQLite file, or PostgreSQL through
 * test/helpers/stores.ts), bootstrap as `egress serve` does it, and a ControlServer on port 0
 * that tests reach with real fetch. `userWithRole` makes the people of an RBAC test through
 * the API itself (user, token, role binding), as an administrator would with curl.
 */
import { buildApp, type BuildAppOptions } from '../../src/control/app.js';
import { bootstrap } from '../../src/control/bootstrap.js';
import { ControlServer } from '../../src/control/server.js';
import type { Store } from '../../src/control/store/store.js';
import { apiClient, type Api } from './control.js';
import { BACKENDS, type StoreHarness } from './stores.js';

export const ADMIN_TOKEN = 'egress_test-admin-token';

export interface ControlHarness {
  url: string;
  store: Store;
  admin: Api;
  as(token: string | undefined): Api;
  close(): Promise<void>;
}

export async function startControl(
  store: Store,
  options: Omit<BuildAppOptions, 'store'> = {},
): Promise<ControlHarness> {
  await bootstrap(store, { adminToken: ADMIN_TOKEN, now: Date.now });
  const app = buildApp({ store, log: () => {}, ...options });
  const server = new ControlServer({ fetch: app.fetch, host: '127.0.0.1', port: 0 });
  await server.start();
  const url = server.url();
  return {
    url,
    store,
    admin: apiClient(url, ADMIN_TOKEN),
    as: (token) => apiClient(url, token),
    close: () => server.close(),
  };
}

/** A fresh SQLite store and a control plane on it; `close` removes both. */
export async function startSqliteControl(options: Omit<BuildAppOptions, 'store'> = {}) {
  const harness: StoreHarness = await BACKENDS[0]!.create();
  const control = await startControl(await harness.fresh(), options);
  return {
    ...control,
    async close() {
      await control.close();
      await harness.teardown();
    },
  };
}

/** Creates a user with a token and a role binding at `scope` (a path), as the admin. */
export async function userWithRole(
  admin: Api,
  name: string,
  role: string,
  scope: string,
): Promise<string> {
  const user = await admin('POST', '/api/v1/users', { name });
  if (user.status !== 201) throw new Error(`creating user ${name}: ${user.status} ${user.text}`);
  const token = await admin('POST', `/api/v1/users/${name}/tokens`, { name: `${name} token` });
  if (token.status !== 201) throw new Error(`token for ${name}: ${token.status} ${token.text}`);
  const binding = await admin('POST', `/api/v1/${scope}/role-bindings`, { user: name, role });
  if (binding.status !== 201)
    throw new Error(`binding ${role} for ${name}: ${binding.status} ${binding.text}`);
  return (token.body as { token: string }).token;
}

/** org acme, project web (app "web"), workspaces ws1 (role=web) and ws2; returns policy ids. */
export async function seedAcme(admin: Api): Promise<{ defaults: Record<string, string> }> {
  for (const [path, body] of [
    ['/api/v1/orgs', { name: 'acme' }],
    ['/api/v1/orgs/acme/projects', { name: 'web' }],
    [
      '/api/v1/orgs/acme/projects/web/workspaces',
      { name: 'ws1', metadata: { role: 'web', env: 'production' } },
    ],
    ['/api/v1/orgs/acme/projects/web/workspaces', { name: 'ws2' }],
  ] as const) {
    const r = await admin('POST', path, body);
    if (r.status !== 201) throw new Error(`${path}: ${r.status} ${r.text}`);
  }
  const list = await admin('GET', '/api/v1/orgs/acme/projects/web/policies');
  const defaults: Record<string, string> = {};
  for (const p of (list.body as { items: Array<{ id: string; mode: string }> }).items)
    defaults[p.mode] = p.id;
  return { defaults };
}
