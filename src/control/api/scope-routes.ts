/**
 * Scopes in URLs (DESIGN.md 9.3): `platform`, `orgs/{org}`, `orgs/{org}/projects/{project}`,
 * `orgs/{org}/projects/{project}/workspaces/{ws}`. Routes that exist at several kinds of scope
 * (policies, assignment, role bindings) are declared once per kind from these prefixes, so the
 * OpenAPI document lists each path with its parameters.
 */
import { z } from '@hono/zod-openapi';
import type { ScopeKind } from '../rbac/scope-path.js';
import { ScopeName } from './schemas.js';

export interface ScopePrefix {
  kind: ScopeKind;
  /** OpenAPI-style path under /api/v1, e.g. `/orgs/{org}/projects/{project}`. */
  path: string;
  params: z.ZodObject;
  /** The scope path from validated params. */
  scopePath(params: Record<string, string>): string;
  /** Used in operation ids: `Platform`, `Org`, `Project`, `Workspace`. */
  label: string;
}

const org = ScopeName.openapi({ param: { name: 'org', in: 'path' } });
const project = ScopeName.openapi({ param: { name: 'project', in: 'path' } });
const workspace = ScopeName.openapi({ param: { name: 'ws', in: 'path' } });

export const SCOPE_PREFIXES: Record<ScopeKind, ScopePrefix> = {
  platform: {
    kind: 'platform',
    path: '/platform',
    params: z.object({}),
    scopePath: () => 'platform',
    label: 'Platform',
  },
  organisation: {
    kind: 'organisation',
    path: '/orgs/{org}',
    params: z.object({ org }),
    scopePath: (p) => `orgs/${p.org}`,
    label: 'Org',
  },
  project: {
    kind: 'project',
    path: '/orgs/{org}/projects/{project}',
    params: z.object({ org, project }),
    scopePath: (p) => `orgs/${p.org}/projects/${p.project}`,
    label: 'Project',
  },
  workspace: {
    kind: 'workspace',
    path: '/orgs/{org}/projects/{project}/workspaces/{ws}',
    params: z.object({ org, project, ws: workspace }),
    scopePath: (p) => `orgs/${p.org}/projects/${p.project}/workspaces/${p.ws}`,
    label: 'Workspace',
  },
};

export const POLICY_SCOPES: readonly ScopePrefix[] = [
  SCOPE_PREFIXES.platform,
  SCOPE_PREFIXES.organisation,
  SCOPE_PREFIXES.project,
];
export const ALL_SCOPES: readonly ScopePrefix[] = [...POLICY_SCOPES, SCOPE_PREFIXES.workspace];
