/**
 * Policies (DESIGN.md 9.1, 9.3): list and create at a scope; read, replace (If-Match), delete;
 * versions, diff and restore; test destinations against a policy.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { checkReport } from '../../policy/check-report.js';
import { compilePolicy } from '../../policy/engine/compile.js';
import type { Policy } from '../../policy/model.js';
import { actorOf } from '../audit/actor.js';
import type { ApiEnv, ApiApp, ControlDeps } from '../context.js';
import { etagOf, expectedVersion } from '../http/etag.js';
import { cursorSchema, limitSchema, pageOf } from '../http/pagination.js';
import { ApiError } from '../http/problem.js';
import { parseDestinations } from './destinations.js';
import { PolicyService } from '../policies/service.js';
import { unifiedDiff } from '../policies/line-diff.js';
import { nameLookup, policyDetail, policySummary, versionView } from '../policies/views.js';
import type { PolicyRecord, PolicyVersion as VersionRecord } from '../store/store.js';
import { BEARER, json, jsonBody, problems } from '../api/responses.js';
import { POLICY_SCOPES } from '../api/scope-routes.js';
import {
  CheckResult,
  CreatePolicy,
  Page,
  PolicyDetail,
  PolicyDiff,
  PolicySummary,
  PolicyVersion,
  TestPolicy,
  UpdatePolicy,
} from '../api/schemas.js';
import { scopeFor } from './scope-access.js';

const PolicyPage = Page(PolicySummary, 'PolicyPage');
const VersionPage = Page(PolicyVersion, 'PolicyVersionPage');
const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const VersionParam = IdParam.extend({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: 'version', in: 'path' } }),
});
const IfMatch = z.object({
  'if-match': z.string().optional().describe('the ETag from GET ("v3"); required'),
});
const ListQuery = z.object({
  limit: limitSchema,
  cursor: cursorSchema,
  inherited: z
    .enum(['true', 'false'])
    .optional()
    .describe('also list the policies defined above this scope (what may be assigned here)'),
});

async function current(deps: ControlDeps, record: PolicyRecord): Promise<VersionRecord> {
  const v = await deps.store.getPolicyVersion(record.id, record.currentVersion);
  if (!v)
    throw new ApiError(
      404,
      'not_found',
      `policy ${record.id} has no version ${record.currentVersion}`,
    );
  return v;
}

/** The policy, if the caller may read (or, with `manage`, change) where it is defined. */
async function policyFor(
  deps: ControlDeps,
  c: Context<ApiEnv>,
  id: string,
  need: 'read' | 'manage',
): Promise<PolicyRecord> {
  const record = await deps.store.getPolicy(id);
  const what = `policy ${id}`;
  if (!record || !c.var.auth.canRead(record.scopePath))
    throw new ApiError(404, 'not_found', `${what} does not exist or you may not see it`);
  if (need === 'manage') c.var.auth.requireManage(record.scopePath, `policy "${record.name}"`);
  return record;
}

async function names(deps: ControlDeps) {
  return nameLookup(await deps.store.listUsers());
}

export function registerPolicyRoutes(app: ApiApp, deps: ControlDeps): void {
  const service = new PolicyService(deps);

  for (const prefix of POLICY_SCOPES) {
    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix.path}/policies`,
        tags: ['Policies'],
        summary: `List the policies defined at ${prefix.kind === 'platform' ? 'the platform' : `a${prefix.kind === 'organisation' ? 'n' : ''} ${prefix.kind}`}`,
        security: BEARER,
        request: { params: prefix.params, query: ListQuery },
        responses: { 200: json(PolicyPage, 'One page, in creation order'), ...problems(400, 404) },
      }),
      async (c) => {
        const scope = await scopeFor(
          deps,
          c,
          prefix.scopePath(c.req.valid('param') as Record<string, string>),
          'read',
        );
        const q = c.req.valid('query');
        const scopeIds =
          q.inherited === 'true'
            ? (await deps.store.scopeChain(scope.id)).map((s) => s.id)
            : [scope.id];
        const records = await deps.store.listPolicies(scopeIds);
        const page = pageOf(records, (r) => r.id, q.limit, q.cursor);
        const nameOf = await names(deps);
        const items = [];
        for (const r of page.items) items.push(policySummary(r, await current(deps, r), nameOf));
        return c.json({ items, nextCursor: page.nextCursor }, 200);
      },
    );

    app.openapi(
      createRoute({
        method: 'post',
        path: `${prefix.path}/policies`,
        tags: ['Policies'],
        summary: 'Create a policy from its source text in any format',
        description:
          'A policy that does not load is a 400 `invalid_policy` whose errors point at LINE:COL in `source`; a policy whose own `tests:` fail is a 422 `policy_tests_failed`.',
        security: BEARER,
        request: { params: prefix.params, body: jsonBody(CreatePolicy) },
        responses: {
          201: json(PolicyDetail, 'Created (version 1)'),
          ...problems(400, 403, 404, 409, 422),
        },
      }),
      async (c) => {
        const scope = await scopeFor(
          deps,
          c,
          prefix.scopePath(c.req.valid('param') as Record<string, string>),
          'manage',
        );
        const saved = await service.create(scope, c.req.valid('json'), actorOf(c));
        c.header('etag', etagOf(saved.policy.currentVersion));
        c.header('location', `/api/v1/policies/${saved.policy.id}`);
        return c.json(
          policyDetail(saved.policy, saved.version, await names(deps), [], saved.warnings),
          201,
        );
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/policies/{id}',
      tags: ['Policies'],
      summary: 'Read a policy: source as written, native YAML, current version (ETag)',
      security: BEARER,
      request: { params: IdParam },
      responses: { 200: json(PolicyDetail, 'The policy'), ...problems(404) },
    }),
    async (c) => {
      const record = await policyFor(deps, c, c.req.valid('param').id, 'read');
      const usedBy = (await deps.store.assignmentsOfPolicy(record.id)).map((a) => a.scopePath);
      c.header('etag', etagOf(record.currentVersion));
      return c.json(
        policyDetail(record, await current(deps, record), await names(deps), usedBy),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/policies/{id}',
      tags: ['Policies'],
      summary: 'Save a new version (If-Match required)',
      description:
        'Send If-Match with the ETag from GET. Without it: 428; with a stale one: 412 with the current ETag. Fields left out keep their value.',
      security: BEARER,
      request: { params: IdParam, headers: IfMatch, body: jsonBody(UpdatePolicy) },
      responses: {
        200: json(PolicyDetail, 'The new version'),
        ...problems(400, 403, 404, 409, 412, 422, 428),
      },
    }),
    async (c) => {
      const record = await policyFor(deps, c, c.req.valid('param').id, 'manage');
      const expected = expectedVersion(c.req.valid('header')['if-match'], record.currentVersion);
      const saved = await service.update(record, expected, c.req.valid('json'), actorOf(c));
      const usedBy = (await deps.store.assignmentsOfPolicy(record.id)).map((a) => a.scopePath);
      c.header('etag', etagOf(saved.policy.currentVersion));
      return c.json(
        policyDetail(saved.policy, saved.version, await names(deps), usedBy, saved.warnings),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/policies/{id}',
      tags: ['Policies'],
      summary: 'Delete a policy that no scope uses (If-Match optional)',
      security: BEARER,
      request: { params: IdParam, headers: IfMatch },
      responses: { 204: { description: 'Deleted' }, ...problems(403, 404, 409, 412) },
    }),
    async (c) => {
      const record = await policyFor(deps, c, c.req.valid('param').id, 'manage');
      const expected = expectedVersion(
        c.req.valid('header')['if-match'],
        record.currentVersion,
        false,
      );
      await service.remove(record, expected, actorOf(c));
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/policies/{id}/versions',
      tags: ['Policies'],
      summary: 'List the versions of a policy, oldest first',
      security: BEARER,
      request: { params: IdParam, query: z.object({ limit: limitSchema, cursor: cursorSchema }) },
      responses: { 200: json(VersionPage, 'One page'), ...problems(400, 404) },
    }),
    async (c) => {
      const record = await policyFor(deps, c, c.req.valid('param').id, 'read');
      const q = c.req.valid('query');
      const versions = await deps.store.listPolicyVersions(record.id);
      const page = pageOf(versions, (v) => String(v.version).padStart(10, '0'), q.limit, q.cursor);
      const nameOf = await names(deps);
      return c.json(
        {
          items: page.items.map((v) => versionView(v, record, nameOf, false)),
          nextCursor: page.nextCursor,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/policies/{id}/versions/{version}',
      tags: ['Policies'],
      summary: 'Read one version, with its source',
      security: BEARER,
      request: { params: VersionParam },
      responses: { 200: json(PolicyVersion, 'The version'), ...problems(400, 404) },
    }),
    async (c) => {
      const { id, version } = c.req.valid('param');
      const record = await policyFor(deps, c, id, 'read');
      const v = await deps.store.getPolicyVersion(record.id, version);
      if (!v) throw new ApiError(404, 'not_found', `policy ${id} has no version ${version}`);
      return c.json(versionView(v, record, await names(deps), true), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/policies/{id}/diff',
      tags: ['Policies'],
      summary: 'Unified diff of the source between two versions',
      security: BEARER,
      request: {
        params: IdParam,
        query: z.object({
          from: z.coerce.number().int().min(1).describe('older version'),
          to: z.coerce
            .number()
            .int()
            .min(1)
            .optional()
            .describe('newer version (default: current)'),
        }),
      },
      responses: { 200: json(PolicyDiff, 'The diff'), ...problems(400, 404) },
    }),
    async (c) => {
      const record = await policyFor(deps, c, c.req.valid('param').id, 'read');
      const q = c.req.valid('query');
      const to = q.to ?? record.currentVersion;
      const [a, b] = [
        await deps.store.getPolicyVersion(record.id, q.from),
        await deps.store.getPolicyVersion(record.id, to),
      ];
      if (!a || !b)
        throw new ApiError(
          404,
          'not_found',
          `policy ${record.id} has no version ${!a ? q.from : to}`,
        );
      return c.json(
        {
          id: record.id,
          from: q.from,
          to,
          diff: unifiedDiff(a.source, b.source, `v${q.from}`, `v${to}`),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/policies/{id}/versions/{version}/restore',
      tags: ['Policies'],
      summary: "Restore an old version's content as a new version (If-Match required)",
      security: BEARER,
      request: { params: VersionParam, headers: IfMatch },
      responses: {
        200: json(PolicyDetail, 'The new version'),
        ...problems(400, 403, 404, 412, 422, 428),
      },
    }),
    async (c) => {
      const { id, version } = c.req.valid('param');
      const record = await policyFor(deps, c, id, 'manage');
      const expected = expectedVersion(c.req.valid('header')['if-match'], record.currentVersion);
      const saved = await service.restore(record, version, expected, actorOf(c));
      const usedBy = (await deps.store.assignmentsOfPolicy(record.id)).map((a) => a.scopePath);
      c.header('etag', etagOf(saved.policy.currentVersion));
      return c.json(
        policyDetail(saved.policy, saved.version, await names(deps), usedBy, saved.warnings),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/policies/{id}/test',
      tags: ['Policies'],
      summary:
        'Decide destinations against the current version (the answer of egress check --json)',
      security: BEARER,
      request: { params: IdParam, body: jsonBody(TestPolicy) },
      responses: {
        200: json(z.array(CheckResult), 'One result per destination, in order'),
        ...problems(400, 404),
      },
    }),
    async (c) => {
      const record = await policyFor(deps, c, c.req.valid('param').id, 'read');
      const dests = parseDestinations(c.req.valid('json').destinations);
      const v = await current(deps, record);
      const compiled = compilePolicy(v.native as Policy, {
        ecosystemExtras: deps.ecosystemExtras,
        version: String(record.currentVersion),
      });
      return c.json(checkReport(compiled, dests) as never, 200);
    },
  );
}
