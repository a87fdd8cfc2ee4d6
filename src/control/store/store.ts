/**
 * The control plane's storage interface (DESIGN.md section 9): one interface, two backends
 * (SQLite through better-sqlite3, PostgreSQL through pg), the same schema and migrations. The
 * store only stores: it checks what the database must guarantee (unique names, immutable
 * versions, optimistic concurrency, idempotent event ingestion, the change revision) and leaves
 * permissions, the effective policy and HTTP to the layers above.
 *
 * Conventions
 * - Ids are UUIDv7 strings (time-ordered, so "creation order" is id order), except the
 *   platform scope, whose id is always `platform`.
 * - Times are ISO 8601 strings in UTC (`2026-12-04T10:00:00.000Z`) in and out.
 * - Methods that look one thing up return `null` when it does not exist; methods that change
 *   one thing throw a {@link StoreError} subclass (`NotFoundError`, `AlreadyExistsError`,
 *   `VersionConflictError`, `InUseError`, `InvalidError`) with a stable `code`.
 * - Every change that can alter an effective policy (policies, assignments, scopes, workspace
 *   metadata and tokens) bumps the change revision in the same transaction and notifies
 *   listeners after commit (PostgreSQL: `NOTIFY egress_changes`).
 */
export * from './errors.js';
export * from './records.js';

import type {
  Assignment,
  AuthenticatedToken,
  Change,
  ChangeNotice,
  CustomRole,
  EventFacets,
  EventFilter,
  EventPage,
  EventQuery,
  IngestResult,
  NewNode,
  NewPolicy,
  NewScope,
  NewToken,
  NewUser,
  NodeRecord,
  NodeStatus,
  PolicyChange,
  PolicyRecord,
  PolicyVersion,
  RoleBinding,
  RetentionResult,
  Scope,
  ScopeKind,
  ScopeUpdate,
  Settings,
  StorableEvent,
  StoredEvent,
  TokenRecord,
  User,
} from './records.js';

/** Which backend a store runs on (the API reports it; tests name their cases by it). */
export type StoreBackend = 'sqlite' | 'postgres';

export interface Store {
  readonly backend: StoreBackend;

  /**
   * Runs `fn` in one database transaction: everything it does through `tx` commits together or
   * not at all (a thrown error rolls back and is rethrown). `tx` has this same interface;
   * calling `tx.transaction` again just runs inside the same transaction. Change notifications
   * caused inside are delivered after the commit only.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;

  /** Closes connections and listeners. The store is unusable afterwards. */
  close(): Promise<void>;

  // ---- scopes: platform → organisations → projects → workspaces ----

  /** The platform scope (created by the first migration; always exists). */
  platform(): Promise<Scope>;
  /**
   * Creates an organisation (parent: the platform), project (parent: an organisation) or
   * workspace (parent: a project). Names follow DESIGN 9.1 (letters, digits, `.`, `_`, `-`,
   * 1-63): `InvalidError` otherwise; `AlreadyExistsError` when the parent already has a child
   * of that name, or (projects) when the Fly `app` name is taken on the platform.
   */
  createScope(input: NewScope): Promise<Scope>;
  getScope(id: string): Promise<Scope | null>;
  /** By path: `platform`, `orgs/acme`, `orgs/acme/projects/web`, `…/workspaces/ws1`. */
  getScopeByPath(path: string): Promise<Scope | null>;
  /** A project by its platform-unique Fly app name. */
  getProjectByApp(app: string): Promise<Scope | null>;
  /** Children of a scope, by name. */
  listChildren(parentId: string): Promise<Scope[]>;
  /**
   * Scopes, optionally only of one kind and/or only at `under` (a path) and beneath it,
   * ordered by path.
   */
  listScopes(filter?: { kind?: ScopeKind; under?: string }): Promise<Scope[]>;
  /** The scope and its ancestors, platform first (what the effective policy walks). */
  scopeChain(id: string): Promise<Scope[]>;
  /** Workspace metadata and token hash, project app name. Bumps the change revision. */
  updateScope(id: string, update: ScopeUpdate): Promise<Scope>;
  /**
   * Deletes a scope that has no children and no policies (`InUseError` naming them
   * otherwise); its assignment and role bindings go with it. The platform cannot be deleted.
   */
  deleteScope(id: string): Promise<void>;

  // ---- policies and their immutable versions ----

  /** Creates the policy and its version 1 in one transaction. */
  createPolicy(input: NewPolicy): Promise<{ policy: PolicyRecord; version: PolicyVersion }>;
  getPolicy(id: string): Promise<PolicyRecord | null>;
  getPolicyByName(scopeId: string, name: string): Promise<PolicyRecord | null>;
  /** Policies defined at these scopes, in creation order. */
  listPolicies(scopeIds: readonly string[]): Promise<PolicyRecord[]>;
  /**
   * Saves a new version (and the new name/description if given), if and only if the policy's
   * current version is still `expectedVersion` (the ETag/If-Match check): otherwise
   * `VersionConflictError` with the current version. A restore is an update whose content is
   * an old version's.
   */
  updatePolicy(
    id: string,
    expectedVersion: number,
    change: PolicyChange,
  ): Promise<{ policy: PolicyRecord; version: PolicyVersion }>;
  /**
   * Deletes the policy and its versions. `InUseError` (with the scope paths) while an
   * assignment uses it; `VersionConflictError` when `expectedVersion` is given and stale.
   */
  deletePolicy(id: string, expectedVersion?: number): Promise<void>;
  /** Every version, oldest first. */
  listPolicyVersions(policyId: string): Promise<PolicyVersion[]>;
  getPolicyVersion(policyId: string, version: number): Promise<PolicyVersion | null>;

  // ---- assignments: at most one per scope ----

  /**
   * Creates or replaces the scope's assignment. `policyId` null is an explicit "no policy".
   * The store checks only that the policy exists (`NotFoundError`); whether it is visible
   * from the scope and whether an enforced assignment above locks it is the API's rule.
   */
  setAssignment(
    scopeId: string,
    value: { policyId: string | null; enforced: boolean; by: string | null },
  ): Promise<Assignment>;
  getAssignment(scopeId: string): Promise<Assignment | null>;
  /** Removes the scope's assignment; false when it had none. */
  clearAssignment(scopeId: string): Promise<boolean>;
  /** All assignments, or those at these scopes. */
  listAssignments(scopeIds?: readonly string[]): Promise<Assignment[]>;
  /** The assignments that use a policy (what blocks its deletion). */
  assignmentsOfPolicy(policyId: string): Promise<Assignment[]>;

  // ---- users, tokens, roles ----

  /** `AlreadyExistsError` when the name is taken. */
  createUser(input: NewUser): Promise<User>;
  getUser(id: string): Promise<User | null>;
  getUserByName(name: string): Promise<User | null>;
  listUsers(): Promise<User[]>;
  /** Deletes the user, its tokens and role bindings. */
  deleteUser(id: string): Promise<void>;

  /** Stores a token by its hash (see `hashToken`); the secret itself is never stored. */
  createToken(input: NewToken): Promise<TokenRecord>;
  /** The token with this hash, revoked or expired ones included (null: unknown hash). */
  findTokenByHash(tokenSha256: string): Promise<TokenRecord | null>;
  /**
   * The active (not revoked, not expired at `now`) token with this hash and its user, or null.
   * Records the use (`lastUsedAt`, written at most once a minute per token).
   */
  authenticateToken(tokenSha256: string, now?: Date): Promise<AuthenticatedToken | null>;
  listTokens(userId: string): Promise<TokenRecord[]>;
  /** Marks the token revoked (kept for the audit trail); false when it was unknown. */
  revokeToken(id: string, at?: Date): Promise<boolean>;

  /** Grants `role` at the scope; granting an existing binding returns it unchanged. */
  grantRole(input: {
    userId: string;
    role: string;
    scopeId: string;
    by: string | null;
  }): Promise<RoleBinding>;
  /** Removes a binding; false when there was none. */
  revokeRole(input: { userId: string; role: string; scopeId: string }): Promise<boolean>;
  listRoleBindings(filter?: { userId?: string; scopeId?: string }): Promise<RoleBinding[]>;

  /** Creates or replaces a custom role (name → permissions). */
  putCustomRole(role: Omit<CustomRole, 'createdAt' | 'updatedAt'>): Promise<CustomRole>;
  getCustomRole(name: string): Promise<CustomRole | null>;
  listCustomRoles(): Promise<CustomRole[]>;
  /** false when there was none; `InUseError` while bindings use it. */
  deleteCustomRole(name: string): Promise<boolean>;

  // ---- audit events ----

  /**
   * Stores a batch idempotently by event `id` (`INSERT … ON CONFLICT DO NOTHING`): a batch
   * sent twice is stored once. `inserted` says how many were new. `node` fills the node column
   * of events that carry none. Events are validated by the caller (the protocol schema);
   * the store needs `id`, `time`, `type`, `severity` and `description` and rejects a batch
   * missing them with `InvalidError` (nothing stored).
   */
  appendEvents(
    events: readonly StorableEvent[],
    options?: { node?: string },
  ): Promise<IngestResult>;
  /**
   * One page, newest first by (time, id); `nextCursor` continues exactly after the last event
   * (stable under concurrent inserts of older or newer events: no event twice, none skipped
   * among those that existed when the first page was read).
   */
  queryEvents(query: EventQuery): Promise<EventPage>;
  /** Counts by type, severity, verdict and workspace (top 50) of the events matching. */
  eventFacets(filter: EventFilter): Promise<EventFacets>;
  /** Every matching event, newest first, read page by page (for CSV/NDJSON export). */
  exportEvents(filter: EventFilter, options?: { batchSize?: number }): AsyncIterable<StoredEvent>;
  getEvent(id: string): Promise<StoredEvent | null>;
  /** Deletes events older than `before`; returns how many. */
  deleteEventsBefore(before: Date): Promise<number>;
  /** Deletes events older than the `retentionDays` setting (nothing when it is null). */
  applyRetention(now?: Date): Promise<RetentionResult>;

  // ---- data-plane nodes ----

  /** `AlreadyExistsError` when the name is taken. */
  createNode(input: NewNode): Promise<NodeRecord>;
  getNode(id: string): Promise<NodeRecord | null>;
  findNodeByTokenHash(tokenSha256: string): Promise<NodeRecord | null>;
  listNodes(): Promise<NodeRecord[]>;
  /** What a node reported on contact (version, revision enforced, events pending). */
  recordNodeContact(id: string, status: NodeStatus): Promise<NodeRecord>;
  deleteNode(id: string): Promise<boolean>;

  // ---- the change revision ----

  /** The current change revision (0 before any change). */
  revision(): Promise<number>;
  /** The changes after `revision`, oldest first (at most `limit`, default 1000). */
  changesSince(revision: number, limit?: number): Promise<Change[]>;
  /**
   * Bumps the revision for a change the store cannot see itself (e.g. a built-in policy set
   * changed). Store methods that change policies, assignments and scopes call it already.
   */
  recordChange(change: {
    kind: string;
    scope: string | null;
    subject?: string | null;
  }): Promise<Change>;
  /**
   * Calls `listener` after every committed change, from any process on the same database
   * (PostgreSQL LISTEN egress_changes; SQLite: this process only). Resolves once listening;
   * the returned function stops it.
   */
  listen(listener: (notice: ChangeNotice) => void): Promise<() => Promise<void>>;

  // ---- settings ----

  getSettings(): Promise<Settings>;
  updateSettings(patch: Partial<Settings>): Promise<Settings>;
}
