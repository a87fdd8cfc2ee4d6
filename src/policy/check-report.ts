/**
 * The answer of `egress check --json` and of the API's "test a policy" (DESIGN.md 6 and 9.3):
 * one object per destination, in order, with the decision, the destination as given, the
 * normalised target and one sentence of explanation. One function, so both stay the same.
 */
import type { Decision } from './decision.js';
import type { DestinationArg } from './destination.js';
import { decide } from './engine/decide.js';
import type { CompiledPolicy } from './engine/compile.js';
import { explain } from './engine/explain.js';

export type CheckResult = Omit<Decision, 'destination'> & {
  destination: string;
  target: Decision['destination'];
  scheme?: string;
  path?: string;
  explanation: string;
};

export function checkReport(
  compiled: CompiledPolicy,
  dests: readonly DestinationArg[],
): CheckResult[] {
  return dests.map((dest) => {
    const decision = decide(compiled, dest);
    return {
      ...decision,
      // `destination` is the argument as given (DESIGN.md 6); the normalised one is `target`.
      destination: dest.input,
      target: decision.destination,
      ...(dest.scheme ? { scheme: dest.scheme } : {}),
      ...(dest.path ? { path: dest.path } : {}),
      explanation: explain(decision),
    };
  });
}
