/**
 * Organisations, projects and workspaces (DESIGN.md 9.3): create and list. Creating a project
 * also creates its three default policies (DESIGN.md 4), in the same transaction.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { BUILTIN_NAMES, builtinPolicy } from '../../policy/builtin.js';
import { emitNative } from '../../policy/formats/index.js';
import { MODES } from '../../policy/model.js';
import { actorOf, type Actor } from '../audit/actor.js';
import { changeEvent } from '../audit/change-event.js';
import type { ApiApp, ControlDeps } from '../context.js';
import { pageOf } from '../http/pagination.js';
import { loadHierarchy } from '../hierarchy/snapshot.js';
import { PolicyService } from '../policies/service.js';
import { describeScope } from '../rbac/scope-path.js';
import type { NewScope, Scope as ScopeRecord, Store } from '../store/store.js';
import { BEARER, json, jsonBody, problems } from '../api/responses.js';
import { SCOPE_PREFIXES, type ScopePrefix } from '../api/scope-routes.js';
import {
  CreateOrg,
  CreateProject,
  CreateWorkspace,
  Metadata,
  Page,
  Scope,
} from '../api/schemas.js';
import { cursorSchema, limitSchema } from '../http/pagination.js';
import { scopeFor, scopeView } from './scope-access.js';

const ScopePage = Page(Scope, 'ScopePage');
const ListQuery = z.object({ limit: limitSchema, cursor: cursorSchema });

async function createScope(
  deps: ControlDeps,
  tx: Store,
  input: NewScope,
  actor: Actor,
): Promise<ScopeRecord> {
  const scope = await tx.createScope(input);
  await tx.appendEvents([
    changeEvent(
      {
        type: 'scope.created',
        user: actor.userName,
        address: actor.address,
        scope: scope.path,
        description: `User ${actor.userName} created ${describeScope(scope.path)}.`,
        details: { kind: scope.kind, ...(scope.app ? { app: scope.app } : {}) },
      },
      deps.clock.now(),
    ),
  ]);
  return scope;
}

/** The three default policies of a new project (DESIGN.md 4, "Built-in policies"). */
async function createDefaultPolicies(
  deps: ControlDeps,
  tx: Store,
  project: ScopeRecord,
): Promise<void> {
  const service = new PolicyService({ ...deps, store: tx });
  const h = await loadHierarchy(tx);
  for (const mode of MODES) {
    const policy = builtinPolicy(mode, deps.hostRegistries);
    await service.create(
      project,
      {
        name: BUILTIN_NAMES[mode],
        description: policy.description ?? BUILTIN_NAMES[mode],
        format: 'native',
        source: emitNative(policy, {
          header: `${BUILTIN_NAMES[mode]}: created with project ${project.name}`,
        }),
      },
      null,
      h,
    );
  }
}

interface ChildKind {
  parent: ScopePrefix;
  kind: 'organisation' | 'project' | 'workspace';
  segment: string;
  body: typeof CreateOrg | typeof CreateProject | typeof CreateWorkspace;
  tag: string;
}

const CHILDREN: ChildKind[] = [
  {
    parent: SCOPE_PREFIXES.platform,
    kind: 'organisation',
    segment: '/orgs',
    body: CreateOrg,
    tag: 'Organisations',
  },
  {
    parent: SCOPE_PREFIXES.organisation,
    kind: 'project',
    segment: '/projects',
    body: CreateProject,
    tag: 'Projects',
  },
  {
    parent: SCOPE_PREFIXES.project,
    kind: 'workspace',
    segment: '/workspaces',
    body: CreateWorkspace,
    tag: 'Workspaces',
  },
];

function childPath(child: ChildKind): string {
  return child.parent.kind === 'platform' ? child.segment : child.parent.path + child.segment;
}

export function registerScopeRoutes(app: ApiApp, deps: ControlDeps): void {
  for (const child of CHILDREN) {
    const path = childPath(child);
    app.openapi(
      createRoute({
        method: 'post',
        path,
        tags: [child.tag],
        summary: `Create a${child.kind === 'organisation' ? 'n' : ''} ${child.kind}`,
        security: BEARER,
        request: { params: child.parent.params, body: jsonBody(child.body) },
        responses: { 201: json(Scope, 'Created'), ...problems(400, 403, 404, 409) },
      }),
      async (c) => {
        const parentPath = child.parent.scopePath(c.req.valid('param') as Record<string, string>);
        const parent = await scopeFor(deps, c, parentPath, 'manage');
        const body = c.req.valid('json') as {
          name: string;
          app?: string;
          metadata?: Record<string, string>;
        };
        const actor = actorOf(c);
        const created = await deps.store.transaction(async (tx) => {
          const scope = await createScope(
            deps,
            tx,
            {
              parentId: parent.id,
              kind: child.kind,
              name: body.name,
              ...(body.app !== undefined ? { app: body.app } : {}),
              ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
            },
            actor,
          );
          if (child.kind === 'project') await createDefaultPolicies(deps, tx, scope);
          return scope;
        });
        c.header('location', `/api/v1/${created.path}`);
        return c.json(scopeView(created), 201);
      },
    );
    app.openapi(
      createRoute({
        method: 'get',
        path,
        tags: [child.tag],
        summary: `List ${child.kind === 'organisation' ? 'organisations' : child.kind + 's'} you may see`,
        security: BEARER,
        request: { params: child.parent.params, query: ListQuery },
        responses: { 200: json(ScopePage, 'One page, by name'), ...problems(400, 404) },
      }),
      async (c) => {
        const parentPath = child.parent.scopePath(c.req.valid('param') as Record<string, string>);
        const parent = await scopeFor(deps, c, parentPath, 'read');
        const q = c.req.valid('query');
        const visible = (await deps.store.listChildren(parent.id)).filter((s) =>
          c.var.auth.canRead(s.path),
        );
        const page = pageOf(visible, (s) => s.name, q.limit, q.cursor);
        return c.json({ items: page.items.map(scopeView), nextCursor: page.nextCursor }, 200);
      },
    );
  }

  for (const prefix of [
    SCOPE_PREFIXES.platform,
    SCOPE_PREFIXES.organisation,
    SCOPE_PREFIXES.project,
    SCOPE_PREFIXES.workspace,
  ]) {
    app.openapi(
      createRoute({
        method: 'get',
        path: prefix.path,
        tags: ['Scopes'],
        summary: `Read ${prefix.kind === 'platform' ? 'the platform' : `a${prefix.kind === 'organisation' ? 'n' : ''} ${prefix.kind}`}`,
        security: BEARER,
        request: { params: prefix.params },
        responses: { 200: json(Scope, 'The scope'), ...problems(400, 404) },
      }),
      async (c) => {
        const scope = await scopeFor(
          deps,
          c,
          prefix.scopePath(c.req.valid('param') as Record<string, string>),
          'read',
        );
        return c.json(scopeView(scope), 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'patch',
      path: SCOPE_PREFIXES.workspace.path,
      tags: ['Workspaces'],
      summary: "Replace a workspace's metadata (what Fly selectors match)",
      security: BEARER,
      request: {
        params: SCOPE_PREFIXES.workspace.params,
        body: jsonBody(z.strictObject({ metadata: Metadata }).openapi('UpdateWorkspace')),
      },
      responses: { 200: json(Scope, 'Updated'), ...problems(400, 403, 404) },
    }),
    async (c) => {
      const scope = await scopeFor(
        deps,
        c,
        SCOPE_PREFIXES.workspace.scopePath(c.req.valid('param') as Record<string, string>),
        'manage',
      );
      const updated = await deps.store.updateScope(scope.id, {
        metadata: c.req.valid('json').metadata,
      });
      return c.json(scopeView(updated), 200);
    },
  );
}
