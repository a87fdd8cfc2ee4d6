/**
 * The tables as Kysely sees them (column types on the way in and out). Times are integer
 * milliseconds since the epoch on both backends (SQLite INTEGER, PostgreSQL int8 parsed to a
 * number), booleans 0/1 integers and JSON documents text, so one schema serves both.
 */
export interface ScopesTable {
  id: string;
  kind: string;
  name: string;
  parent_id: string | null;
  path: string;
  app: string | null;
  metadata: string;
  token_sha256: string | null;
  created_at: number;
  updated_at: number;
}

export interface PoliciesTable {
  id: string;
  scope_id: string;
  name: string;
  description: string;
  current_version: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface PolicyVersionsTable {
  policy_id: string;
  version: number;
  format: string;
  source: string;
  native: string;
  content_hash: string;
  author: string | null;
  created_at: number;
}

export interface AssignmentsTable {
  scope_id: string;
  policy_id: string | null;
  enforced: number;
  updated_by: string | null;
  updated_at: number;
}

export interface UsersTable {
  id: string;
  name: string;
  kind: string;
  display_name: string | null;
  created_at: number;
}

export interface TokensTable {
  id: string;
  user_id: string;
  name: string;
  token_sha256: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface RoleBindingsTable {
  id: string;
  user_id: string;
  role: string;
  scope_id: string;
  created_by: string | null;
  created_at: number;
}

export interface CustomRolesTable {
  name: string;
  description: string;
  permissions: string;
  created_at: number;
  updated_at: number;
}

export interface EventsTable {
  id: string;
  time_ms: number;
  type: string;
  severity: string;
  workspace: string | null;
  scope: string | null;
  user_name: string | null;
  node: string | null;
  request_id: string | null;
  policy_id: string | null;
  policy_version: string | null;
  verdict: string | null;
  reason: string | null;
  dest_host: string | null;
  dest_port: number | null;
  description: string;
  /** The whole event as ingested (JSON). */
  body: string;
}

export interface NodesTable {
  id: string;
  name: string;
  token_sha256: string;
  scope_id: string;
  version: string | null;
  revision: number | null;
  last_contact_at: number | null;
  events_pending: number | null;
  created_at: number;
}

export interface ChangesTable {
  revision: number;
  kind: string;
  scope: string | null;
  subject: string | null;
  time_ms: number;
}

export interface CountersTable {
  name: string;
  value: number;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface Tables {
  scopes: ScopesTable;
  policies: PoliciesTable;
  policy_versions: PolicyVersionsTable;
  assignments: AssignmentsTable;
  users: UsersTable;
  tokens: TokensTable;
  role_bindings: RoleBindingsTable;
  custom_roles: CustomRolesTable;
  events: EventsTable;
  nodes: NodesTable;
  changes: ChangesTable;
  counters: CountersTable;
  settings: SettingsTable;
}
