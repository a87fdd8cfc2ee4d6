/**
 * Several Fly policies that apply to one workspace, as one native Policy (DESIGN.md 9.1 step 3).
 */
import type { Policy } from '../model.js';
import type { FlyPolicyToCombine } from './types.js';

export function combineFlyPolicies(policies: readonly FlyPolicyToCombine[]): Policy {
  void policies;
  throw new Error('combineFlyPolicies: not implemented yet');
}
