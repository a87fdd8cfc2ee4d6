/**
 * Every code a request can be refused or fail with, and how each medium says it: the HTTP
 * status (a 403 body for a decision, a plain failure text otherwise), the SOCKS5 reply, and one
 * line of meaning. The gate and the request flow deal in codes only; the medium (an HTTP
 * response, a raw socket, a SOCKS reply, a TLS alert) renders the code from this table. A test
 * checks that every code here is documented in docs/events.md or docs/proxy.md.
 *
 * Two kinds:
 * - decision reasons (ReasonCode, from the policy engine): a denial is 403, SOCKS 0x02; the
 *   allow reasons never refuse anything and are listed for their meaning only;
 * - failure codes: the request could not be served (malformed, not identified, the name did not
 *   resolve, the upstream failed, the audit log is down, a limit).
 */
import type { Decision, ReasonCode } from '../policy/decision.js';

/** RFC 1928 reply codes. */
export const SOCKS_REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowedByRuleset: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export interface CodeSpec {
  /** The HTTP status that answers it, or null when no HTTP answer exists for it. */
  readonly status: number | null;
  /** The SOCKS5 reply that answers it. */
  readonly socks: number;
  /** One line for the docs and for people reading an event. */
  readonly meaning: string;
}

const DENIED = (meaning: string): CodeSpec => ({
  status: 403,
  socks: SOCKS_REPLY.notAllowedByRuleset,
  meaning,
});
const ALLOWED = (meaning: string): CodeSpec => ({
  status: null,
  socks: SOCKS_REPLY.succeeded,
  meaning,
});

/** Every decision reason (the type makes the list complete). */
export const DECISION_REASONS: { readonly [C in ReasonCode]: CodeSpec } = {
  allowed_by_rule: ALLOWED('an allow rule matched'),
  default_allow: ALLOWED('no rule matched and the policy default is allow'),
  attached_resource: ALLOWED('an attached resource of the workspace: always reachable'),
  decider_allow: ALLOWED('the external decider answered allow'),
  denied_by_rule: DENIED('a deny rule matched'),
  default_deny: DENIED('no rule matched and the policy default is deny'),
  decider_required: DENIED('a decide rule matched and the decider was not asked (fail closed)'),
  decider_deny: DENIED('the external decider answered deny'),
  decider_timeout: DENIED('the decider did not answer within its timeout (fail closed)'),
  decider_error: DENIED('the decider failed or none is configured (fail closed)'),
  decider_bad_return: DENIED('the decider answered neither allow nor deny (fail closed)'),
  invalid_destination: DENIED('the host name, address or port is malformed'),
  no_policy: DENIED('no policy applies to this client (fail closed)'),
  host_mismatch: DENIED('the HTTP Host header names another destination (domain fronting)'),
  sni_mismatch: DENIED('the TLS server name names a destination the policy does not allow'),
  no_destination_name: DENIED('a redirected connection names no destination (no SNI, no Host)'),
  unsupported_command: {
    status: 403,
    socks: SOCKS_REPLY.commandNotSupported,
    meaning: 'a SOCKS5 command egress does not relay (BIND, UDP ASSOCIATE)',
  },
  ingress_unrestricted: ALLOWED('inbound traffic to a policy without ingress rules'),
  'ip_class:loopback': DENIED('the address is loopback'),
  'ip_class:unspecified': DENIED('the address is unspecified (0.0.0.0, ::)'),
  'ip_class:link_local': DENIED('the address is link-local'),
  'ip_class:multicast': DENIED('the address is multicast'),
  'ip_class:broadcast': DENIED('the address is the broadcast address'),
  'ip_class:metadata': DENIED('the address is a cloud metadata endpoint'),
  'ip_class:private': DENIED('the address is in a private range (privateRanges: deny)'),
  'ip_class:reserved': DENIED('the address is reserved'),
  'ip_class:proxy_self': DENIED('the address is where egress itself listens (a loop)'),
};

export type FailureCode =
  | 'bad_request'
  | 'auth_required'
  | 'auth_invalid'
  | 'headers_too_large'
  | 'headers_timeout'
  | 'too_many_connections'
  | 'audit_unavailable'
  | 'dns_nxdomain'
  | 'dns_timeout'
  | 'dns_failure'
  | 'upstream_refused'
  | 'upstream_timeout'
  | 'upstream_unreachable'
  | 'upstream_error'
  | 'upstream_tls_invalid'
  | 'client_tls_error'
  | 'inspect_unavailable'
  | 'inspect_upgrade_unsupported'
  | 'client_aborted';

const FAILED = (status: number | null, socks: number, meaning: string): CodeSpec => ({
  status,
  socks,
  meaning,
});
const { generalFailure, hostUnreachable, connectionRefused, ttlExpired } = SOCKS_REPLY;

export const FAILURE_CODES: { readonly [C in FailureCode]: CodeSpec } = {
  bad_request: FAILED(400, generalFailure, 'the request could not be read as a proxy request'),
  auth_required: FAILED(407, generalFailure, 'a multi-workspace proxy needs credentials'),
  auth_invalid: FAILED(407, generalFailure, 'the workspace or its token is not valid'),
  headers_too_large: FAILED(431, generalFailure, 'the request head is over the size limit'),
  headers_timeout: FAILED(408, generalFailure, 'the request head did not arrive in time'),
  too_many_connections: FAILED(503, generalFailure, 'the proxy is at its connection limit'),
  audit_unavailable: FAILED(503, generalFailure, 'the audit log cannot be written (fail closed)'),
  dns_nxdomain: FAILED(502, hostUnreachable, 'the name does not exist'),
  dns_timeout: FAILED(502, hostUnreachable, 'resolving the name timed out'),
  dns_failure: FAILED(502, hostUnreachable, 'resolving the name failed'),
  upstream_refused: FAILED(502, connectionRefused, 'the upstream refused the connection'),
  upstream_timeout: FAILED(504, ttlExpired, 'the upstream did not answer in time'),
  upstream_unreachable: FAILED(502, hostUnreachable, 'the upstream address is unreachable'),
  upstream_error: FAILED(502, generalFailure, 'the upstream connection failed otherwise'),
  upstream_tls_invalid: FAILED(
    502,
    generalFailure,
    "inspect: the upstream's certificate is not trusted",
  ),
  client_tls_error: FAILED(null, generalFailure, "inspect: the client did not trust egress's leaf"),
  inspect_unavailable: FAILED(
    null,
    generalFailure,
    'inspect: the workspace CA could not be opened',
  ),
  inspect_upgrade_unsupported: FAILED(501, generalFailure, 'inspect: upgrades are not relayed'),
  client_aborted: FAILED(
    null,
    generalFailure,
    'the client went away before the answer was complete',
  ),
};

export type RefusalCode = ReasonCode | FailureCode;

export function isFailureCode(code: string): code is FailureCode {
  return Object.hasOwn(FAILURE_CODES, code);
}

/** The spec of any code (an unknown one renders as a 502 general failure). */
export function codeSpec(code: string): CodeSpec {
  if (isFailureCode(code)) return FAILURE_CODES[code];
  if (Object.hasOwn(DECISION_REASONS, code)) return DECISION_REASONS[code as ReasonCode];
  return FAILURE_CODES.upstream_error;
}

/**
 * Why a request is not served: a code from the tables above, the decision it concerns (the
 * denying one, or the allowing one a failure came after; null before any decision, e.g. an
 * unidentified client), and for failures the words for the client.
 */
export interface Refusal {
  readonly code: RefusalCode;
  readonly decision: Decision | null;
  readonly message: string;
}

/** A denial: the code is the decision's reason, the body is built from the decision. */
export function denial(decision: Decision): Refusal {
  return { code: decision.reason, decision, message: '' };
}

export function failure(
  code: FailureCode,
  message: string,
  decision: Decision | null = null,
): Refusal {
  return { code, decision, message };
}
