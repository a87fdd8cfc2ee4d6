/**
 * The `Store` over Kysely, shared by both backends: each method delegates to its table module
 * with the context (database or open transaction, backend, clock). The backends differ only in
 * what `Backend` abstracts (event insertion, text search, notifications, error shapes).
 */
import type { Store, StoreBackend } from '../store.js';
import type * as R from '../records.js';
import { atomic, type Backend, type Ctx, type Db, type TxState } from './context.js';
import * as assignments from './assignments.js';
import * as changes from './changes.js';
import * as events from './events.js';
import * as nodes from './nodes.js';
import * as policies from './policies.js';
import * as roles from './roles.js';
import * as scopes from './scopes.js';
import * as settings from './settings.js';
import * as users from './users.js';

export class SqlStore implements Store {
  private readonly ctx: Ctx;

  constructor(
    db: Db,
    private readonly backendOps: Backend,
    private readonly clock: () => Date,
    tx: TxState | null = null,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.ctx = { db, backend: backendOps, now: () => clock().getTime(), tx };
  }

  get backend(): StoreBackend {
    return this.backendOps.kind;
  }

  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return atomic(this.ctx, (ctx) => fn(new SqlStore(ctx.db, this.backendOps, this.clock, ctx.tx)));
  }

  async close(): Promise<void> {
    if (this.ctx.tx) throw new Error('close() inside a transaction: close the store it came from');
    await this.backendOps.close();
    await this.onClose();
  }

  // ---- scopes ----
  platform = async (): Promise<R.Scope> => (await scopes.getScope(this.ctx, 'platform'))!;
  createScope = (input: R.NewScope) => scopes.createScope(this.ctx, input);
  getScope = (id: string) => scopes.getScope(this.ctx, id);
  getScopeByPath = (path: string) => scopes.getScopeByPath(this.ctx, path);
  getProjectByApp = (app: string) => scopes.getProjectByApp(this.ctx, app);
  listChildren = (parentId: string) => scopes.listChildren(this.ctx, parentId);
  listScopes = (filter?: { kind?: R.ScopeKind; under?: string }) =>
    scopes.listScopes(this.ctx, filter);
  scopeChain = (id: string) => scopes.scopeChain(this.ctx, id);
  updateScope = (id: string, update: R.ScopeUpdate) => scopes.updateScope(this.ctx, id, update);
  deleteScope = (id: string) => scopes.deleteScope(this.ctx, id);

  // ---- policies ----
  createPolicy = (input: R.NewPolicy) => policies.createPolicy(this.ctx, input);
  getPolicy = (id: string) => policies.getPolicy(this.ctx, id);
  getPolicyByName = (scopeId: string, name: string) =>
    policies.getPolicyByName(this.ctx, scopeId, name);
  listPolicies = (scopeIds: readonly string[]) => policies.listPolicies(this.ctx, scopeIds);
  updatePolicy = (id: string, expectedVersion: number, change: R.PolicyChange) =>
    policies.updatePolicy(this.ctx, id, expectedVersion, change);
  deletePolicy = (id: string, expectedVersion?: number) =>
    policies.deletePolicy(this.ctx, id, expectedVersion);
  listPolicyVersions = (policyId: string) => policies.listPolicyVersions(this.ctx, policyId);
  getPolicyVersion = (policyId: string, version: number) =>
    policies.getPolicyVersion(this.ctx, policyId, version);

  // ---- assignments ----
  setAssignment = (
    scopeId: string,
    value: { policyId: string | null; enforced: boolean; by: string | null },
  ) => assignments.setAssignment(this.ctx, scopeId, value);
  getAssignment = (scopeId: string) => assignments.getAssignment(this.ctx, scopeId);
  clearAssignment = (scopeId: string) => assignments.clearAssignment(this.ctx, scopeId);
  listAssignments = (scopeIds?: readonly string[]) =>
    assignments.listAssignments(this.ctx, scopeIds);
  assignmentsOfPolicy = (policyId: string) => assignments.assignmentsOfPolicy(this.ctx, policyId);

  // ---- users, tokens, roles ----
  createUser = (input: R.NewUser) => users.createUser(this.ctx, input);
  getUser = (id: string) => users.getUser(this.ctx, id);
  getUserByName = (name: string) => users.getUserByName(this.ctx, name);
  listUsers = () => users.listUsers(this.ctx);
  deleteUser = (id: string) => users.deleteUser(this.ctx, id);
  createToken = (input: R.NewToken) => users.createToken(this.ctx, input);
  findTokenByHash = (hash: string) => users.findTokenByHash(this.ctx, hash);
  authenticateToken = (hash: string, now?: Date) =>
    users.authenticateToken(this.ctx, hash, now ?? this.clock());
  listTokens = (userId: string) => users.listTokens(this.ctx, userId);
  revokeToken = (id: string, at?: Date) => users.revokeToken(this.ctx, id, at ?? this.clock());
  grantRole = (input: { userId: string; role: string; scopeId: string; by: string | null }) =>
    roles.grantRole(this.ctx, input);
  revokeRole = (input: { userId: string; role: string; scopeId: string }) =>
    roles.revokeRole(this.ctx, input);
  listRoleBindings = (filter?: { userId?: string; scopeId?: string }) =>
    roles.listRoleBindings(this.ctx, filter);
  putCustomRole = (role: Omit<R.CustomRole, 'createdAt' | 'updatedAt'>) =>
    roles.putCustomRole(this.ctx, role);
  getCustomRole = (name: string) => roles.getCustomRole(this.ctx, name);
  listCustomRoles = () => roles.listCustomRoles(this.ctx);
  deleteCustomRole = (name: string) => roles.deleteCustomRole(this.ctx, name);

  // ---- audit events ----
  appendEvents = (batch: readonly R.StorableEvent[], options?: { node?: string }) =>
    events.appendEvents(this.ctx, batch, options);
  queryEvents = (query: R.EventQuery) => events.queryEvents(this.ctx, query);
  eventFacets = (filter: R.EventFilter) => events.eventFacets(this.ctx, filter);
  exportEvents = (filter: R.EventFilter, options?: { batchSize?: number }) =>
    events.exportEvents(this.ctx, filter, options?.batchSize);
  getEvent = (id: string) => events.getEvent(this.ctx, id);
  deleteEventsBefore = (before: Date) => events.deleteEventsBefore(this.ctx, before);
  applyRetention = async (now?: Date): Promise<R.RetentionResult> => {
    const { retentionDays } = await settings.getSettings(this.ctx);
    if (retentionDays === null) return { retentionDays, before: null, deleted: 0 };
    const before = new Date((now ?? this.clock()).getTime() - retentionDays * 86_400_000);
    const deleted = await events.deleteEventsBefore(this.ctx, before);
    return { retentionDays, before: before.toISOString(), deleted };
  };

  // ---- nodes ----
  createNode = (input: R.NewNode) => nodes.createNode(this.ctx, input);
  getNode = (id: string) => nodes.getNode(this.ctx, id);
  findNodeByTokenHash = (hash: string) => nodes.findNodeByTokenHash(this.ctx, hash);
  listNodes = () => nodes.listNodes(this.ctx);
  recordNodeContact = (id: string, status: R.NodeStatus) =>
    nodes.recordNodeContact(this.ctx, id, status);
  deleteNode = (id: string) => nodes.deleteNode(this.ctx, id);

  // ---- change revision ----
  revision = () => changes.currentRevision(this.ctx);
  changesSince = (revision: number, limit?: number) =>
    changes.changesSince(this.ctx, revision, limit);
  recordChange = (change: { kind: string; scope: string | null; subject?: string | null }) =>
    changes.recordChange(this.ctx, change);
  listen = (listener: (notice: R.ChangeNotice) => void) => this.backendOps.listen(listener);

  // ---- settings ----
  getSettings = () => settings.getSettings(this.ctx);
  updateSettings = (patch: Partial<R.Settings>) => settings.updateSettings(this.ctx, patch);
}
