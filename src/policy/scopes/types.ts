/**
 * The scope model of the control plane (DESIGN.md 9.1): one platform → organisations →
 * projects → workspaces. Policies are defined at platform, organisation or project scope; every
 * scope (workspace included) holds at most one assignment. These types are what the pure
 * functions of this folder take and answer; the API and the store map their rows onto them.
 */
import type { Policy, WorkspaceSelector } from '../model.js';

export type ScopeKind = 'platform' | 'organisation' | 'project' | 'workspace';
/** Top-down: the position of a kind in every chain. */
export const SCOPE_KINDS: readonly ScopeKind[] = [
  'platform',
  'organisation',
  'project',
  'workspace',
];
/** Where policies may be defined (never at a workspace). */
export const POLICY_SCOPE_KINDS: readonly ScopeKind[] = ['platform', 'organisation', 'project'];

/** Names a scope. `id` is whatever the store uses; when both sides carry one, it decides equality. */
export interface ScopeRef {
  kind: ScopeKind;
  name: string;
  id?: string;
}

/** A scope's assignment: `policyId: null` means "nothing assigned here" (it never applies or locks). */
export interface Assignment {
  policyId: string | null;
  enforced: boolean;
}

/** One scope of a chain, with its assignment if it has one. */
export interface ScopeNode extends ScopeRef {
  assignment?: Assignment | null;
}

/**
 * The scopes from the platform down to one scope, top-down: `[platform]`, `[platform, org]`,
 * `[platform, org, project]` or `[platform, org, project, workspace]`. Validated by
 * `checkScopeChain` (kinds in order, no gaps).
 */
export type ScopeChain = readonly ScopeNode[];

/** What the answers say about a policy: the API's `{id, name, version}` plus where it lives. */
export interface PolicyRef {
  id: string;
  name: string;
  version: number;
  /** The scope the policy is defined at (platform, organisation or project). */
  scope: ScopeRef;
}

/** How the functions find a policy by id; `undefined` = it does not exist (deleted). */
export type PolicyLookup = ReadonlyMap<string, PolicyRef> | ((id: string) => PolicyRef | undefined);

/**
 * A selector as Fly writes it or as the model stores it (`appliesTo`): every part that is present
 * must match (Fly: combined selectors must all match); within `machines` / `ids`, any listed id
 * matches; `all: true` matches every workspace. A selector with no part, `all: false`, an empty id
 * list or empty metadata matches nothing (fail closed).
 */
export interface WorkspaceSelectorParts {
  all?: boolean;
  ids?: readonly string[];
  machines?: ReadonlyArray<{ id: string }>;
  metadata?: Readonly<Record<string, string>>;
}
export type AnyWorkspaceSelector = WorkspaceSelector | WorkspaceSelectorParts;

/** The workspace a selector is matched against: machine id = workspace name. */
export interface WorkspaceIdentity {
  name: string;
  metadata?: Readonly<Record<string, string>>;
}

/** A policy of the workspace's project that carries a Fly selector (`appliesTo`). */
export interface SelectorPolicy {
  ref: PolicyRef;
  selector: AnyWorkspaceSelector;
  /** Creation order within the project: smaller first (a sequence number or a timestamp). */
  createdOrder: number;
}

export type EffectiveStep = 'enforced' | 'selected' | 'selector' | 'inherited' | 'none';

/** An assignment that is stored but overridden by an enforced assignment above it. */
export interface ShadowedAssignment {
  scope: ScopeRef;
  policyId: string;
  /** null when the assigned policy no longer exists. */
  policy: PolicyRef | null;
  enforced: boolean;
  /** The scope whose enforced assignment overrides it, and that assignment's policy. */
  by: ScopeRef;
  byPolicyId: string;
  /** `workspace ws1 selects "Dev", but organisation acme enforces "Strict"`. */
  explanation: string;
}

/** The effective policy of a workspace (DESIGN.md 9.1), and why. */
export interface EffectivePolicy {
  step: EffectiveStep;
  /** The scope the answer came from (the project for `selector`); null for `none`. */
  scope: ScopeRef | null;
  /**
   * The one policy that applies, or null (step `none`, or an assignment whose policy no longer
   * exists: fail closed, the data plane answers `no_policy`). For `selector` with several
   * matching policies: a combined ref (ids and names joined with "+", version 0); see `policies`.
   */
  policy: PolicyRef | null;
  /** Every policy that makes up the answer: one, the selector policies in creation order, or none. */
  policies: PolicyRef[];
  /** True when an enforced assignment decides: no scope beneath can replace it. */
  locked: boolean;
  /** The assignment that decided names a policy that no longer exists (its id). */
  missingPolicyId?: string;
  /** One sentence: "enforced by organisation acme", "selected on workspace ws1", ... */
  explanation: string;
  shadowed: ShadowedAssignment[];
}

export interface EffectivePolicyInput {
  /** `[platform, organisation, project, workspace]` with their assignments. */
  chain: ScopeChain;
  /** The workspace's metadata, for metadata selectors. */
  metadata?: Readonly<Record<string, string>>;
  /** The project's policies that carry a selector (any order: sorted by `createdOrder`). */
  selectorPolicies?: readonly SelectorPolicy[];
  policies: PolicyLookup;
}

export type AssignCheck =
  | { ok: true }
  | {
      ok: false;
      /** `locked` → HTTP 409; `policy_not_found` → 404; `policy_out_of_scope` → 422 (or 400). */
      code: 'locked' | 'policy_not_found' | 'policy_out_of_scope' | 'invalid_scope_chain';
      message: string;
      /** For `locked`: the topmost enforcing scope above and its policy. */
      lockedBy?: { scope: ScopeRef; policyId: string; policy: PolicyRef | null };
    };

/** A Fly policy with what combining needs: its model policy and creation order. */
export interface FlyPolicyToCombine {
  policy: Policy;
  createdOrder: number;
  /** Shown as the combined policy's name parts; defaults to `policy.name`. */
  name?: string;
}
