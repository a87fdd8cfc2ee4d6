/**
 * The Decision: what the engine answers for one destination (DESIGN.md 3.3). Data, never a
 * boolean: the verdict, why, which rule (and where it is written), and which policy.
 */
import type { DeciderSettings, Mode, RuleKind, Transport, Verdict } from './model.js';
import type { IpClass } from './engine/ip-class.js';

export type ReasonCode =
  | 'allowed_by_rule'
  | 'denied_by_rule'
  | 'default_allow'
  | 'default_deny'
  | 'attached_resource'
  | 'decider_required'
  | 'decider_allow'
  | 'decider_deny'
  | 'decider_timeout'
  | 'decider_error'
  | 'decider_bad_return'
  | 'invalid_destination'
  | 'no_policy'
  | 'host_mismatch'
  | 'sni_mismatch'
  | 'no_destination_name'
  | 'unsupported_command'
  /** Inbound traffic (decideIngress) to a policy without ingress rules: nothing forbids it. */
  | 'ingress_unrestricted'
  | `ip_class:${IpClass}`;

export interface RuleRef {
  /**
   * Position in the policy's rule list (0-based); for attached resources, in the resource list;
   * for `ingress`, in the ingress allow list.
   */
  index: number;
  kind: RuleKind | 'resource' | 'ingress';
  /** `file:line:col` of the entry that matched, or null for built-in rules. */
  source: string | null;
  /** The entry that matched, as the policy writes it (`**.example.com:443`). */
  pattern: string;
  /** The rule's label, if it has one. */
  name?: string;
}

export interface DecidedDestination {
  /** Canonical host name or IP text. */
  host: string;
  port: number;
  transport: Transport;
  /** The address that was (or will be) dialled, once known. */
  ip?: string;
}

export interface Decision {
  /** Whether the connection may proceed: always true in monitor mode. */
  allowed: boolean;
  /** What the policy says. */
  verdict: Verdict;
  mode: Mode;
  /** False in monitor mode: the verdict is recorded, not applied. */
  enforced: boolean;
  /** True when the verdict is deny but monitor mode lets it through. */
  wouldDeny: boolean;
  reason: ReasonCode;
  rule: RuleRef | null;
  policy: { name: string; version: string };
  destination: DecidedDestination;
  /** For `decider_required`: the decider the data plane must ask. */
  decider?: DeciderSettings;
  /** For `invalid_destination`: what is wrong with it. */
  error?: string;
  /** For `decider_allow` / `decider_deny`: the decider's own words, if it gave any. */
  deciderReason?: string;
}

/** What a caller asks about. `host` may be a name or an IP literal in any spelling. */
export interface DestinationQuery {
  host: string;
  port: number;
  transport?: Transport;
}
