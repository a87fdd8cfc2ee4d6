/** The API's shapes the console reads (src/control/api/schemas.ts is the source of truth). */
export type ScopeKind = 'platform' | 'organisation' | 'project' | 'workspace';

export interface PolicyRef {
  id: string;
  name: string;
  version: number;
}

export interface PolicySummary {
  id: string;
  scope: string;
  name: string;
  description: string;
  format: string;
  version: number;
  mode: 'monitor' | 'restrict' | 'inspect';
  hash: string;
  author: string | null;
  createdAt: string;
  updatedAt: string;
  builtIn: boolean;
}

export interface FieldError {
  field: string;
  code: string;
  message: string;
  line?: number;
  col?: number;
  hint?: string;
}

export interface PolicyDetail extends PolicySummary {
  source: string;
  native: string;
  warnings: FieldError[];
  usedBy: string[];
}

export interface PolicyVersion {
  id: string;
  version: number;
  name: string;
  description: string;
  format: string;
  hash: string;
  author: string | null;
  createdAt: string;
}

export interface Assignment {
  scope: string;
  policy: PolicyRef | null;
  enforced: boolean;
  shadowedBy: { scope: string; policy: PolicyRef } | null;
}

export type Step = 'enforced' | 'selected' | 'selector' | 'inherited' | 'none';

export interface EffectivePolicy {
  workspace: string;
  policy: PolicyRef | null;
  step: Step;
  scope: string | null;
  locked: boolean;
  explanation: string;
}

export interface OverviewRow {
  scope: string;
  kind: ScopeKind;
  name: string;
  policy: PolicyRef | null;
  enforced: boolean;
  status: 'Enforced' | 'Not enforced' | 'None';
  effective?: { policy: PolicyRef | null; step: Step; scope: string | null };
}

export interface Me {
  user: { id: string; name: string; displayName: string | null };
  permissions: Array<{ scope: string; permissions: string[] }>;
}

export interface AuditEvent {
  id: string;
  time: string;
  type: string;
  severity: 'info' | 'warning' | 'critical';
  description: string;
  [field: string]: unknown;
}

export interface EventPage {
  items: AuditEvent[];
  nextCursor: string | null;
}

export interface ReplayChange {
  destination: string;
  port: number;
  transport: string;
  before: { verdict: string; reason: string; rule: unknown };
  after: { verdict: string; reason: string; rule: unknown };
  count: number;
  workspaces: string[];
}

export interface ReplayResult {
  from: string;
  to: string;
  scanned: number;
  workspaces: string[];
  changes: ReplayChange[];
}

export interface LearnResult {
  from: string;
  to: string;
  events: number;
  policy: { format: 'native'; source: string };
  groups: Array<{ ecosystem: string | null; destinations: string[] }>;
  diff: string;
}
