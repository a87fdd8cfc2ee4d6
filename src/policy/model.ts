/**
 * The policy model: what every format (native and foreign) converts to, and what the engine
 * compiles. It keeps what the author wrote (patterns as text, ecosystem identifiers, source
 * locations) so that decisions can point back at the line that made them.
 */
import type { SourceLocation } from './source/diagnostics.js';

export type Mode = 'monitor' | 'restrict' | 'inspect';
export const MODES: readonly Mode[] = ['monitor', 'restrict', 'inspect'];
export type Verdict = 'allow' | 'deny';
export type RuleKind = 'allow' | 'deny' | 'decide';
export type Transport = 'tcp' | 'udp';
export type TransportMatch = Transport | 'any';

export interface PortRange {
  from: number;
  to: number;
}

/**
 * One thing a rule matches. At most one of `host`, `cidr` or `ecosystem`; none of them means
 * "any destination" (Fly-style port rules).
 */
export interface Selector {
  /** Normalised host pattern: `example.com`, `*.example.com`, `**.example.com`, `api-*.x`, `*`. */
  host?: string;
  /** With an exact `host`: the apex and every subdomain. With an `ecosystem`: each of its exact domains and every subdomain (gh-aw). */
  includeSubdomains?: boolean;
  /** Canonical IP or CIDR: `10.0.0.0/8`, `192.168.1.50`, `2001:db8::/32`. */
  cidr?: string;
  /** Ecosystem identifier (`python`, `node`, ...), expanded when the policy is compiled. */
  ecosystem?: string;
  /** Absent = every port. */
  ports?: PortRange[];
  /** Absent = tcp for allow/decide rules, any for deny rules (a deny never misses UDP). */
  transport?: TransportMatch;
  /** Where the author wrote this selector. */
  source?: SourceLocation;
}

export interface DeciderSettings {
  /** Webhook URL that receives POST JSON. */
  url?: string;
  /** Path of a JS module exporting `decide(ctx, req)`. */
  module?: string;
  timeoutMs: number;
  cache: boolean;
  /** Condukt: how many recent conversation messages to send as context. */
  contextMessages?: number;
  /** Condukt: which session metadata keys to send. */
  contextMetadata?: string[];
  /** Condukt: static metadata (key → value) sent with every decider request. */
  metadata?: Record<string, string>;
}

export interface Rule {
  kind: RuleKind;
  selectors: Selector[];
  /** A label shown in explanations ("build tools"). */
  name?: string;
  /** Decider for a `decide` rule; falls back to the policy's `decider`. */
  decider?: DeciderSettings;
  /**
   * Deny rules only (native `enforce: always`): this rule's deny is applied even in monitor
   * mode, as smokescreen applies its global deny list to services in report mode.
   */
  enforceAlways?: true;
  source?: SourceLocation;
}

export type ResourceKind = 'repository' | 'ssh' | 'http';

/** Something attached to the workspace that is always reachable, checked before the rules. */
export interface Resource {
  kind: ResourceKind;
  name?: string;
  host: string;
  ports?: PortRange[];
  source?: SourceLocation;
}

export interface IngressRule {
  ports?: PortRange[];
  transport: TransportMatch;
  source?: SourceLocation;
}

export interface Ingress {
  default: Verdict;
  allow: IngressRule[];
}

/** Which workspaces a policy applies to (Fly.io selectors). Absent = whoever it is attached to. */
export type WorkspaceSelector =
  { all: true } | { ids: string[] } | { metadata: Record<string, string> };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * One case of a policy's `tests:` block: a destination and the verdict the policy must give it
 * (the verdict, not whether monitor mode lets it through). Checked by `egress lint` and on every
 * save and assignment in the control plane.
 */
export interface PolicyTest {
  /** As written: `host`, `host:port`, `[v6]:port`, `ip`, `scheme://host[:port]`, `udp://host:port`. */
  dest: string;
  expect: Verdict;
  source?: SourceLocation;
}

export interface Policy {
  /** Native format version this policy was written in. */
  version: 1;
  name: string;
  description?: string;
  mode: Mode;
  default: Verdict;
  rules: Rule[];
  resources: Resource[];
  ingress?: Ingress;
  decider?: DeciderSettings;
  /** Regular expressions whose matches are replaced before inspected traffic is recorded. */
  redact: string[];
  /** Bytes of each body recorded in inspect mode. */
  maxBodyCapture: number;
  /** `allow` lets allowed names resolve to private ranges (RFC 1918, CGNAT, ULA). */
  privateRanges: Verdict;
  /** Destinations reached through the configured parent proxy (SDS custom endpoints). */
  viaUpstreamProxy: Selector[];
  /** gh-aw firewall log level, kept for the data plane. */
  logLevel?: LogLevel;
  appliesTo?: WorkspaceSelector;
  /** The policy's own test cases (native `tests:`); absent = none. */
  tests?: PolicyTest[];
  /** Where this policy came from. */
  origin?: { file: string; format: string; line?: number };
}

export const DEFAULT_MAX_BODY_CAPTURE = 4096;
export const DEFAULT_DECIDER_TIMEOUT_MS = 5000;

/** A policy with every optional part at its default: the start point for importers. */
export function emptyPolicy(name: string, mode: Mode): Policy {
  return {
    version: 1,
    name,
    mode,
    default: 'deny',
    rules: [],
    resources: [],
    redact: [],
    maxBodyCapture: DEFAULT_MAX_BODY_CAPTURE,
    privateRanges: 'deny',
    viaUpstreamProxy: [],
  };
}
