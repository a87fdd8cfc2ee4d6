/**
 * The API's shapes as zod schemas: the same objects validate requests, type the handlers and
 * generate the OpenAPI 3.1 document at /api/v1/openapi.json (DESIGN.md 9.3).
 */
import { z } from '@hono/zod-openapi';
import { FORMAT_IDS } from '../../policy/formats/types.js';
import { PERMISSIONS } from '../rbac/roles.js';

export const ScopeName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,63}$/, 'use 1-63 letters, digits, ".", "_" or "-"')
  .openapi({ example: 'acme' });

export const Metadata = z
  .record(z.string().min(1).max(63), z.string().max(256))
  .refine((m) => Object.keys(m).length <= 64, 'at most 64 metadata keys')
  .openapi({ example: { role: 'web', env: 'production' } });

export const ScopeKindEnum = z.enum(['platform', 'organisation', 'project', 'workspace']);

export const Scope = z
  .object({
    path: z.string().openapi({ example: 'orgs/acme/projects/web' }),
    kind: ScopeKindEnum,
    name: z.string(),
    parent: z.string().nullable(),
    app: z.string().optional().describe('projects: the Fly.io app name'),
    metadata: z.record(z.string(), z.string()).optional().describe('workspaces only'),
    createdAt: z.string(),
  })
  .openapi('Scope');

export const CreateOrg = z.strictObject({ name: ScopeName }).openapi('CreateOrg');
export const CreateProject = z
  .strictObject({
    name: ScopeName,
    app: ScopeName.optional().describe('platform-unique Fly.io app name (default: the name)'),
  })
  .openapi('CreateProject');
export const CreateWorkspace = z
  .strictObject({ name: ScopeName, metadata: Metadata.optional() })
  .openapi('CreateWorkspace');

export const Page = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

export const FormatEnum = z.enum(FORMAT_IDS as unknown as [string, ...string[]]);

export const PolicyRef = z
  .object({ id: z.string(), name: z.string(), version: z.number().int() })
  .openapi('PolicyRef');

export const FieldErrorSchema = z.object({
  field: z.string(),
  code: z.string(),
  message: z.string(),
  line: z.number().int().optional(),
  col: z.number().int().optional(),
  location: z.string().optional(),
  hint: z.string().optional(),
});

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    field: z.string().optional(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .catchall(z.unknown())
  .openapi('Problem');

export const PolicySummary = z
  .object({
    id: z.string(),
    scope: z.string(),
    name: z.string(),
    description: z.string(),
    format: FormatEnum,
    version: z.number().int(),
    mode: z.enum(['monitor', 'restrict', 'inspect']),
    hash: z.string(),
    author: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    builtIn: z.boolean(),
    appliesTo: z.unknown().optional().describe('Fly.io selector, when the policy has one'),
  })
  .openapi('PolicySummary');

export const PolicyDetail = PolicySummary.extend({
  source: z.string(),
  native: z.string().describe('the policy as native YAML (what is enforced)'),
  warnings: z.array(FieldErrorSchema),
  usedBy: z.array(z.string()).describe('scopes whose assignment names this policy'),
}).openapi('PolicyDetail');

export const CreatePolicy = z
  .strictObject({
    name: z.string().trim().min(1, 'name is required').max(200),
    description: z.string().trim().min(1, 'description is required').max(2000),
    format: FormatEnum.optional().describe('format of source (default native)'),
    source: z.string().min(1, 'source is required').max(1_000_000),
  })
  .openapi('CreatePolicy');

export const UpdatePolicy = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().trim().min(1).max(2000).optional(),
    format: FormatEnum.optional(),
    source: z.string().min(1).max(1_000_000).optional(),
  })
  .openapi('UpdatePolicy');

export const PolicyVersion = z
  .object({
    id: z.string(),
    version: z.number().int(),
    name: z.string(),
    description: z.string(),
    format: FormatEnum,
    hash: z.string(),
    author: z.string().nullable(),
    createdAt: z.string(),
    source: z.string().optional(),
  })
  .openapi('PolicyVersion');

export const PolicyDiff = z
  .object({
    id: z.string(),
    from: z.number().int(),
    to: z.number().int(),
    diff: z.string().describe('unified diff of the source texts'),
  })
  .openapi('PolicyDiff');

export const Assignment = z
  .object({
    scope: z.string(),
    policy: PolicyRef.nullable(),
    enforced: z.boolean(),
    shadowedBy: z
      .object({ scope: z.string(), policy: PolicyRef })
      .nullable()
      .describe('an enforced assignment above that replaces this one'),
  })
  .openapi('Assignment');

export const PutAssignment = z
  .strictObject({
    policy: z.string().min(1).nullable(),
    enforced: z.boolean().default(false),
  })
  .openapi('PutAssignment');

export const StepEnum = z.enum(['enforced', 'selected', 'selector', 'inherited', 'none']);

export const EffectivePolicy = z
  .object({
    workspace: z.string(),
    policy: PolicyRef.nullable(),
    step: StepEnum,
    scope: z.string().nullable(),
    locked: z.boolean(),
    explanation: z.string(),
    policies: z.array(PolicyRef).optional().describe('step "selector": the combined Fly policies'),
    shadowed: z.array(z.object({ scope: z.string(), policy: PolicyRef })).optional(),
  })
  .openapi('EffectivePolicy');

export const TestPolicy = z
  .strictObject({ destinations: z.array(z.string().min(1).max(2048)).min(1).max(1000) })
  .openapi('TestPolicy');

export const CheckResult = z
  .object({
    destination: z.string(),
    verdict: z.enum(['allow', 'deny']),
    allowed: z.boolean(),
    mode: z.string(),
    reason: z.string(),
    rule: z.unknown().nullable(),
    explanation: z.string(),
  })
  .catchall(z.unknown())
  .openapi('CheckResult');

export const OverviewRow = z
  .object({
    scope: z.string(),
    kind: ScopeKindEnum,
    name: z.string(),
    policy: PolicyRef.nullable(),
    enforced: z.boolean(),
    status: z.enum(['Enforced', 'Not enforced', 'None']),
    effective: z
      .object({ policy: PolicyRef.nullable(), step: StepEnum, scope: z.string().nullable() })
      .optional()
      .describe('workspaces: where their policy comes from'),
  })
  .openapi('OverviewRow');

export const User = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['human', 'service']),
    displayName: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('User');

export const CreateUser = z
  .strictObject({
    name: ScopeName.describe('login name'),
    kind: z.enum(['human', 'service']).default('human'),
    displayName: z.string().trim().min(1).max(200).optional(),
  })
  .openapi('CreateUser');

export const CreateToken = z
  .strictObject({
    name: z.string().trim().min(1).max(200).default('token'),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .openapi('CreateToken');

export const TokenInfo = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    token: z.string().optional().describe('the secret: shown only in the answer that created it'),
  })
  .openapi('Token');

export const Node = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: z.string(),
    createdAt: z.string(),
    lastContactAt: z.string().nullable(),
    token: z.string().optional().describe('the node token: shown only when the node is created'),
  })
  .openapi('Node');

export const CreateNode = z
  .strictObject({
    name: ScopeName,
    scope: z.string().max(400).default('platform').describe('the scope whose workspaces it serves'),
  })
  .openapi('CreateNode');

export const PermissionEnum = z.enum(PERMISSIONS as unknown as [string, ...string[]]);

export const Role = z
  .object({
    name: z.string(),
    description: z.string(),
    permissions: z.array(PermissionEnum),
    builtIn: z.boolean(),
    bindableAt: z.array(ScopeKindEnum).optional(),
  })
  .openapi('Role');

export const CreateRole = z
  .strictObject({
    name: ScopeName,
    description: z.string().trim().min(1).max(2000),
    permissions: z.array(PermissionEnum).min(1),
  })
  .openapi('CreateRole');

export const RoleBinding = z
  .object({
    id: z.string(),
    user: z.string(),
    userId: z.string(),
    role: z.string(),
    scope: z.string(),
    createdAt: z.string(),
  })
  .openapi('RoleBinding');

export const CreateRoleBinding = z
  .strictObject({ user: ScopeName, role: ScopeName })
  .openapi('CreateRoleBinding');

export const Me = z
  .object({
    user: User,
    bindings: z.array(RoleBinding),
    permissions: z
      .array(z.object({ scope: z.string(), permissions: z.array(PermissionEnum) }))
      .describe('what the bindings grant, per scope (and beneath it)'),
  })
  .openapi('Me');
