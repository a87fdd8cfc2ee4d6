/** The effective policy of a workspace, exactly as DESIGN.md 9.1 orders the steps. */
import type { EffectivePolicy, EffectivePolicyInput } from './types.js';

export function effectivePolicy(input: EffectivePolicyInput): EffectivePolicy {
  void input;
  throw new Error('effectivePolicy: not implemented yet');
}
