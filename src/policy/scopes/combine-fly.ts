/**
 * Several Fly policies that apply to one workspace, as one native Policy (DESIGN.md 9.1 step 3).
 * Fly policies are allow-only: their rules are concatenated in creation order, and each
 * direction (egress, ingress) that has at least one rule in any of them is default deny; a
 * direction with no rule anywhere stays open, as Fly documents. Rules keep their source
 * locations, so a decision still points at the line of the Fly policy that allowed it.
 *
 * A policy that is not a Fly conversion (a native policy with `appliesTo`) is combined the same
 * way, failing closed where they differ: its deny and decide rules keep their place in the
 * order, a default deny anywhere makes the combination default deny, and the most enforcing
 * mode wins.
 */
import type { Ingress, Mode, Policy, Verdict } from '../model.js';
import { emptyPolicy } from '../model.js';
import type { FlyPolicyToCombine } from './types.js';

const MODE_STRENGTH: Readonly<Record<Mode, number>> = { monitor: 0, restrict: 1, inspect: 2 };

function strongestMode(policies: readonly Policy[]): Mode {
  return policies
    .map((p) => p.mode)
    .reduce((a, b) => (MODE_STRENGTH[b] > MODE_STRENGTH[a] ? b : a), 'monitor' as Mode);
}

/** A direction with a rule is default deny; with none, it stays open only if every policy says so. */
function directionDefault(ruleCount: number, defaults: readonly Verdict[]): Verdict {
  if (ruleCount > 0) return 'deny';
  return defaults.every((d) => d === 'allow') ? 'allow' : 'deny';
}

function combineIngress(policies: readonly Policy[]): Ingress | undefined {
  const withIngress = policies.filter((p) => p.ingress);
  if (withIngress.length === 0) return undefined;
  const allow = withIngress.flatMap((p) => p.ingress!.allow);
  return {
    default: directionDefault(
      allow.length,
      withIngress.map((p) => p.ingress!.default),
    ),
    allow,
  };
}

export function combineFlyPolicies(policies: readonly FlyPolicyToCombine[]): Policy {
  const ordered = policies
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.createdOrder - b.p.createdOrder || a.i - b.i)
    .map(({ p }) => p);
  const models = ordered.map((p) => p.policy);
  const names = ordered.map((p) => p.name ?? p.policy.name);
  if (models.length === 0) {
    // Nothing matched: the caller should not have asked; answer a policy that denies everything.
    const empty = emptyPolicy('no Fly policy', 'restrict');
    empty.description = 'No Fly.io network policy selects this workspace';
    return empty;
  }
  const combined = emptyPolicy(names.join(' + '), strongestMode(models));
  combined.description =
    models.length === 1
      ? (models[0]!.description ?? `Fly.io network policy ${names[0]}`)
      : `Fly.io network policies combined in creation order: ${names.join(', ')}`;
  combined.rules = models.flatMap((p) => p.rules);
  // Allow-only rules: a direction with a rule is default deny. Fail closed for anything else.
  combined.default = directionDefault(
    combined.rules.length,
    models.map((p) => p.default),
  );
  const ingress = combineIngress(models);
  if (ingress) combined.ingress = ingress;
  combined.resources = models.flatMap((p) => p.resources);
  combined.redact = [...new Set(models.flatMap((p) => p.redact))];
  combined.maxBodyCapture = Math.max(...models.map((p) => p.maxBodyCapture));
  combined.privateRanges = models.every((p) => p.privateRanges === 'allow') ? 'allow' : 'deny';
  combined.viaUpstreamProxy = models.flatMap((p) => p.viaUpstreamProxy);
  const decider = models.find((p) => p.decider)?.decider;
  if (decider) combined.decider = decider;
  const tests = models.flatMap((p) => p.tests ?? []);
  if (tests.length) combined.tests = tests;
  combined.origin = { file: names.join(' + '), format: models[0]!.origin?.format ?? 'fly' };
  return combined;
}
