/**
 * Runs a policy's test cases against a compiled policy (pure). A case passes when the policy's
 * verdict equals `expect`. The verdict, not `allowed`: in monitor mode a denied destination is
 * let through but the verdict still says deny, and that is what the author tests. A destination
 * that a `decide` rule matches is deny (`decider_required`) here: what an external decider will
 * answer cannot be tested offline, so a test expecting allow there fails and says why.
 */
import { parseDestinationArg } from '../destination.js';
import type { Decision } from '../decision.js';
import type { CompiledPolicy } from '../engine/compile.js';
import { decide, invalidDestination } from '../engine/decide.js';
import { explainReason } from '../engine/explain.js';
import type { PolicyTest } from '../model.js';
import { formatLocation } from '../source/diagnostics.js';
import type { PolicyTestResult } from './types.js';

/** What the data plane answers a workspace with no policy: deny, `no_policy`, enforced. */
function noPolicyDecision(host: string, port: number, transport: 'tcp' | 'udp'): Decision {
  return {
    allowed: false,
    verdict: 'deny',
    mode: 'restrict',
    enforced: true,
    wouldDeny: false,
    reason: 'no_policy',
    rule: null,
    policy: { name: '(no policy)', version: '' },
    destination: { host, port, transport },
  };
}

function decideTest(compiled: CompiledPolicy | null, test: PolicyTest): Decision {
  const parsed = parseDestinationArg(test.dest);
  if (!parsed.ok) {
    if (!compiled) return { ...noPolicyDecision(test.dest, 0, 'tcp'), error: parsed.error };
    return invalidDestination(compiled, { host: test.dest, port: 0 }, parsed.error);
  }
  const dest = parsed.value;
  if (!compiled) return noPolicyDecision(dest.host, dest.port, dest.transport);
  return decide(compiled, dest);
}

function explanation(test: PolicyTest, decision: Decision, pass: boolean): string {
  const outcome = pass
    ? `${decision.verdict} as expected`
    : `expected ${test.expect}, got ${decision.verdict}`;
  const decider =
    !pass && decision.reason === 'decider_required'
      ? ' (a decide rule matches: what the decider answers cannot be tested offline)'
      : '';
  return `${test.dest}: ${outcome}: ${explainReason(decision)}${decider}`;
}

/** `compiled: null` = no policy: every case is decided `no_policy` (deny), as the data plane does. */
export function runPolicyTests(
  compiled: CompiledPolicy | null,
  tests: readonly PolicyTest[],
): PolicyTestResult[] {
  return tests.map((test) => {
    const decision = decideTest(compiled, test);
    const pass = decision.reason !== 'invalid_destination' && decision.verdict === test.expect;
    return {
      dest: test.dest,
      expected: test.expect,
      actual: decision.verdict,
      pass,
      reason: decision.reason,
      rule: decision.rule,
      source: test.source ? formatLocation(test.source) : null,
      decision,
      explanation: explanation(test, decision, pass),
    };
  });
}
