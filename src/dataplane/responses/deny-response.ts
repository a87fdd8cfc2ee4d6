/**
 * What a denied client sees (DESIGN.md 3.6): 403 with `X-Egress-Decision: deny`,
 * `X-Egress-Reason: <code>`, and a plain-text body that a person or an agent can act on — the
 * destination, the rule or default that denied it, the policy, and how to ask for access.
 */
import type { Decision } from '../../policy/decision.js';
import { describeDestination, explain } from '../../policy/engine/explain.js';
import { accessAdvice } from '../../policy/engine/suggest-rule.js';

export interface DenyText {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the body says about getting access; operators can replace it (--access-hint). */
export const DEFAULT_ACCESS_HINT = 'ask the owner of this policy to add a rule';

export function denyBody(decision: Decision, accessHint = DEFAULT_ACCESS_HINT): string {
  const rule = decision.rule
    ? `rule ${decision.rule.index + 1} (${decision.rule.kind} ${decision.rule.pattern}${decision.rule.source ? ` at ${decision.rule.source}` : ''})`
    : decision.reason === 'default_deny'
      ? 'the default (deny): no rule matched'
      : 'none';
  const lines = [
    'egress denied this connection.',
    '',
    `Destination: ${describeDestination(decision.destination)}`,
    `Policy:      ${decision.policy.name} (version ${decision.policy.version}, ${decision.mode} mode)`,
    `Rule:        ${rule}`,
    `Reason:      ${decision.reason}`,
    '',
    explain(decision),
    '',
  ];
  if (decision.reason === 'no_policy') {
    lines.push(
      'No policy applies to this client. Ask your administrator to attach one to your workspace.',
    );
  } else if (decision.reason === 'no_destination_name') {
    lines.push('Send a Host header (HTTP) or a TLS server name (SNI) so egress can judge it.');
  } else if (decision.reason === 'invalid_destination') {
    lines.push('The destination is malformed; fix the host name or address and try again.');
  } else {
    lines.push(...accessAdvice(decision, accessHint));
  }
  return lines.join('\n') + '\n';
}

export function denyResponse(decision: Decision, accessHint?: string): DenyText {
  const body = denyBody(decision, accessHint);
  return {
    status: 403,
    headers: {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'X-Egress-Decision': 'deny',
      'X-Egress-Reason': decision.reason,
      'X-Egress-Policy': encodeURIComponent(decision.policy.name),
      'Cache-Control': 'no-store',
      Connection: 'close',
    },
    body,
  };
}

/** 502/503/504 for failures after an allow: upstream unreachable, DNS failure, audit down. */
export function failureResponse(status: number, reason: string, message: string): DenyText {
  const body = `egress could not complete this connection.\n\nReason: ${reason}\n${message}\n`;
  return {
    status,
    headers: {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'X-Egress-Reason': reason,
      'Cache-Control': 'no-store',
      Connection: 'close',
    },
    body,
  };
}

/** Serialises a response for raw sockets (CONNECT, upgrades, transparent HTTP). */
export function rawResponse(r: DenyText): string {
  const reason =
    {
      400: 'Bad Request',
      408: 'Request Timeout',
      431: 'Request Header Fields Too Large',
      403: 'Forbidden',
      407: 'Proxy Authentication Required',
      502: 'Bad Gateway',
      503: 'Service Unavailable',
      504: 'Gateway Timeout',
    }[r.status] ?? 'Error';
  const head = Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  return `HTTP/1.1 ${r.status} ${reason}\r\n${head}\r\n\r\n${r.body}`;
}
