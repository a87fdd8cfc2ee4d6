/**
 * The records the control-plane store holds (the types of `Store`'s arguments and results).
 * Times are ISO 8601 strings in UTC; ids UUIDv7 strings.
 */
import type { Severity } from '../../protocol/audit-event.js';

// ---- scopes ----

export type ScopeKind = 'platform' | 'organisation' | 'project' | 'workspace';

/** Workspace metadata: string keys to string values (Fly machine metadata). */
export type Metadata = Record<string, string>;

export interface Scope {
  id: string;
  kind: ScopeKind;
  /** `platform` for the platform; otherwise the name given (unique among siblings). */
  name: string;
  parentId: string | null;
  /** `platform`, `orgs/acme`, `orgs/acme/projects/web`, `orgs/acme/projects/web/workspaces/ws1`. */
  path: string;
  /** Projects: the platform-unique Fly app name (the project's name by default). Else null. */
  app: string | null;
  /** Workspaces: their metadata (Fly selectors match it). `{}` for other kinds. */
  metadata: Metadata;
  /** Workspaces: sha-256 (hex) of the workspace token the data plane identifies it by. */
  tokenSha256: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewScope {
  /** The parent scope's id: the platform for an organisation, etc. */
  parentId: string;
  kind: Exclude<ScopeKind, 'platform'>;
  name: string;
  /** Projects only; defaults to the name. */
  app?: string;
  /** Workspaces only. */
  metadata?: Metadata;
  /** Workspaces only. */
  tokenSha256?: string | null;
}

export interface ScopeUpdate {
  /** Workspaces: replaces the metadata. */
  metadata?: Metadata;
  /** Workspaces: replaces the token hash (null: none). */
  tokenSha256?: string | null;
  /** Projects: a new platform-unique app name. */
  app?: string;
}

// ---- policies ----

export interface PolicyRecord {
  id: string;
  scopeId: string;
  /** The path of `scopeId` (joined for convenience). */
  scopePath: string;
  name: string;
  description: string;
  /** The number of the newest version (1 after creation). */
  currentVersion: number;
  createdAt: string;
  updatedAt: string;
  /** Who created it (user id), null for the system (built-in defaults). */
  createdBy: string | null;
}

/** One immutable saved version of a policy. */
export interface PolicyVersion {
  policyId: string;
  version: number;
  /** The format `source` is written in (`native`, `sds`, `gh-aw`, `harden-runner`, `fly`, …). */
  format: string;
  /** The policy text exactly as written. */
  source: string;
  /** The native policy model (src/policy/model.ts `Policy`) it converts to, as JSON. */
  native: unknown;
  /** `sha256:` + hex of the canonical JSON (sorted keys) of `native`: equal policies, equal hash. */
  contentHash: string;
  /** User id of the author; null for the system. */
  author: string | null;
  createdAt: string;
}

export interface PolicyContent {
  format: string;
  source: string;
  native: unknown;
  author: string | null;
}

export interface NewPolicy extends PolicyContent {
  scopeId: string;
  name: string;
  description: string;
}

export interface PolicyChange extends PolicyContent {
  name?: string;
  description?: string;
}

// ---- assignments ----

export interface Assignment {
  scopeId: string;
  scopePath: string;
  /** null: explicitly no policy at this scope. */
  policyId: string | null;
  enforced: boolean;
  updatedBy: string | null;
  updatedAt: string;
}

// ---- users, tokens, roles ----

export type UserKind = 'human' | 'service';

export interface User {
  id: string;
  /** Unique login name. */
  name: string;
  kind: UserKind;
  displayName: string | null;
  createdAt: string;
}

export interface NewUser {
  name: string;
  kind: UserKind;
  displayName?: string | null;
}

export interface TokenRecord {
  id: string;
  userId: string;
  /** A label ("admin token", "ci"), not unique. */
  name: string;
  /** sha-256 (hex) of the secret; the secret is never stored. */
  tokenSha256: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface NewToken {
  userId: string;
  name: string;
  tokenSha256: string;
  expiresAt?: string | null;
}

export interface AuthenticatedToken {
  token: TokenRecord;
  user: User;
}

export interface RoleBinding {
  id: string;
  userId: string;
  /** A built-in role name (`security-officer`, …) or a custom role's. */
  role: string;
  scopeId: string;
  scopePath: string;
  createdBy: string | null;
  createdAt: string;
}

export interface CustomRole {
  name: string;
  description: string;
  /** `Security::Manage`, `Security::Access`, … (the RBAC layer gives them meaning). */
  permissions: string[];
  createdAt: string;
  updatedAt: string;
}

// ---- audit events ----

/**
 * What `appendEvents` takes: the canonical event (src/protocol/audit-event.ts `AuditEvent`
 * fits) or a control-plane change event of the same shape. The whole object is kept as JSON;
 * the fields below are also copied into indexed columns.
 */
export interface StorableEvent {
  id: string;
  time: string;
  type: string;
  severity: Severity;
  description: string;
  workspace?: string | null;
  user?: string | null;
  /** The data-plane node that sent it (else `appendEvents`' `node` option). */
  node?: string | null;
  requestId?: string | null;
  /**
   * The scope path the event belongs to (the workspace's full path for traffic, the changed
   * scope for control-plane events): what RBAC-filtered queries select by prefix.
   */
  scope?: string | null;
  policy?: { id: string | null; name?: string; version?: string | number } | null;
  verdict?: string | null;
  reason?: string | null;
  destination?: { host?: string; port?: number } | null;
}

/** A stored event: the JSON object as it was ingested. */
export type StoredEvent = StorableEvent & Record<string, unknown>;

export interface IngestResult {
  received: number;
  /** How many were new (the rest were already stored: a retried batch). */
  inserted: number;
}

export interface EventFilter {
  type?: string | readonly string[];
  severity?: Severity | readonly Severity[];
  /** The event's `workspace` field, exactly. */
  workspace?: string;
  /**
   * Scope paths: events whose scope is one of these or beneath one (`orgs/acme` matches
   * `orgs/acme` and `orgs/acme/projects/web/workspaces/ws1`). RBAC passes the scopes the
   * caller may read. An empty array matches nothing.
   */
  scopes?: readonly string[];
  user?: string;
  node?: string;
  verdict?: string;
  reason?: string;
  policyId?: string;
  /** Inclusive lower bound (ISO 8601). */
  from?: string;
  /** Exclusive upper bound (ISO 8601). */
  to?: string;
  /** Text search: case-insensitive substring of the destination host or the description. */
  q?: string;
}

export interface EventQuery extends EventFilter {
  /** From the previous page's `nextCursor`. */
  cursor?: string;
  /** Page size, 1-1000, default 100. */
  limit?: number;
}

export interface EventPage {
  events: StoredEvent[];
  /** null on the last page. */
  nextCursor: string | null;
}

export interface FacetCount {
  value: string | null;
  count: number;
}

export interface EventFacets {
  total: number;
  type: FacetCount[];
  severity: FacetCount[];
  verdict: FacetCount[];
  /** The 50 most frequent. */
  workspace: FacetCount[];
}

export interface RetentionResult {
  retentionDays: number | null;
  /** Events older than this were deleted (null: retention off). */
  before: string | null;
  deleted: number;
}

// ---- nodes ----

export interface NodeRecord {
  id: string;
  name: string;
  /** sha-256 (hex) of the node token. */
  tokenSha256: string;
  /** The scope whose workspaces the node serves (the platform: all). */
  scopeId: string;
  /** The egress version the node runs, as it reported. */
  version: string | null;
  /** The snapshot revision it enforces, as it reported. */
  revision: number | null;
  lastContactAt: string | null;
  /** Events waiting in its spool, as it reported. */
  eventsPending: number | null;
  createdAt: string;
}

export interface NewNode {
  name: string;
  tokenSha256: string;
  /** Defaults to the platform. */
  scopeId?: string;
}

export interface NodeStatus {
  version?: string | null;
  revision?: number | null;
  eventsPending?: number | null;
  at?: Date;
}

// ---- change revision ----

export interface Change {
  /** Strictly increasing, in commit order. */
  revision: number;
  /** What changed: `policy.created`, `policy.updated`, `assignment.set`, `scope.created`, … */
  kind: string;
  /** The scope path affected (everything beneath it may see a new effective policy). */
  scope: string | null;
  /** The id of the changed thing (policy id, scope id), when there is one. */
  subject: string | null;
  time: string;
}

/** What listeners receive after a commit (the NOTIFY payload). */
export type ChangeNotice = Change;

// ---- settings ----

export interface Settings {
  /** Audit events older than this many days are deleted by retention; null keeps them all. */
  retentionDays: number | null;
}

export const DEFAULT_SETTINGS: Settings = { retentionDays: 90 };
