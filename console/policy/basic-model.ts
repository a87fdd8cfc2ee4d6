/**
 * Basic mode (the SDS form): Restrict traffic on/off, allowed domains (with Include
 * subdomains) and allowed IP addresses / CIDR ranges. Rules the form cannot show (deny rules,
 * ports, ecosystems, deciders…) are kept untouched and listed read-only; converting back writes
 * the same policy with the form's lists in place of its plain allow entries, so switching
 * between basic and expert mode never loses anything.
 */
import { emitNative } from '../../src/policy/formats/index.js';
import type { Policy, Rule, Selector } from '../../src/policy/model.js';
import { parseCidr } from '../../src/policy/patterns/cidr.js';
import { parseHostPattern } from '../../src/policy/patterns/host-pattern.js';
import { selectorWords } from '../../src/policy/summary.js';

export interface DomainEntry {
  host: string;
  includeSubdomains: boolean;
}

export interface BasicModel {
  restrict: boolean;
  domains: DomainEntry[];
  ips: string[];
  /** What only expert mode can edit, in words. */
  expertOnly: string[];
}

function isPlain(s: Selector): boolean {
  return (
    s.ports === undefined &&
    s.transport === undefined &&
    s.ecosystem === undefined &&
    (s.host !== undefined || s.cidr !== undefined)
  );
}

function isBasicRule(r: Rule): boolean {
  return r.kind === 'allow' && !r.decider && r.selectors.length > 0 && r.selectors.every(isPlain);
}

export function toBasic(policy: Policy): BasicModel {
  const model: BasicModel = {
    restrict: policy.mode !== 'monitor',
    domains: [],
    ips: [],
    expertOnly: [],
  };
  if (policy.mode === 'inspect') model.expertOnly.push('inspect mode (TLS inspection)');
  if (policy.mode === 'restrict' && policy.default === 'allow')
    model.expertOnly.push('restrict mode with default allow');
  for (const rule of policy.rules) {
    if (isBasicRule(rule)) {
      for (const s of rule.selectors)
        if (s.host !== undefined)
          model.domains.push({ host: s.host, includeSubdomains: !!s.includeSubdomains });
        else if (s.cidr !== undefined) model.ips.push(s.cidr);
    } else {
      const label = rule.name ? ` ("${rule.name}")` : '';
      model.expertOnly.push(
        `${rule.kind} rule${label}: ${rule.selectors.map((s) => selectorWords(s)).join(', ') || 'any destination'}`,
      );
    }
  }
  if (policy.resources.length)
    model.expertOnly.push(`${policy.resources.length} attached resource(s)`);
  if (policy.viaUpstreamProxy.length)
    model.expertOnly.push('custom endpoints via the parent proxy');
  return model;
}

function stripSources(policy: Policy): Policy {
  return {
    ...policy,
    rules: policy.rules.map((r) => {
      const { source: _s, ...rest } = r;
      return { ...rest, selectors: r.selectors.map(({ source: _t, ...s }) => s) };
    }),
  };
}

/** The policy with the form applied; everything the form does not show is kept as it was. */
export function fromBasic(policy: Policy, model: BasicModel): Policy {
  const selectors: Selector[] = [
    ...model.domains.map((d) =>
      d.includeSubdomains ? { host: d.host, includeSubdomains: true } : { host: d.host },
    ),
    ...model.ips.map((cidr) => ({ cidr })),
  ];
  const rules: Rule[] = [];
  let placed = false;
  for (const rule of policy.rules) {
    if (!isBasicRule(rule)) rules.push(rule);
    else if (!placed) {
      placed = true;
      if (selectors.length)
        rules.push({ kind: 'allow', selectors, name: rule.name ?? 'allow list' });
    }
  }
  if (!placed && selectors.length) rules.push({ kind: 'allow', selectors, name: 'allow list' });
  const keepInspect = policy.mode === 'inspect' && model.restrict;
  const mode = keepInspect ? 'inspect' : model.restrict ? 'restrict' : 'monitor';
  const defaultVerdict =
    mode === 'monitor' ? 'allow' : policy.mode === 'monitor' ? 'deny' : policy.default;
  return stripSources({ ...policy, mode, default: defaultVerdict, rules });
}

export function basicToSource(policy: Policy, model: BasicModel): string {
  return emitNative(fromBasic(policy, model));
}

/** Checks a domain before it joins the list; returns the canonical text or the error. */
export function validateDomain(
  input: string,
): { ok: true; value: string } | { ok: false; error: string } {
  const text = input.trim().toLowerCase();
  if (!text) return { ok: false, error: 'enter a domain, e.g. github.com' };
  if (parseCidr(text).ok)
    return { ok: false, error: `${text} is an IP address: add it under IP addresses` };
  const parsed = parseHostPattern(text);
  return parsed.ok ? { ok: true, value: parsed.value.text } : { ok: false, error: parsed.error };
}

/** IPv4/IPv6 address or CIDR range, checked by the engine's own parser. */
export function validateIp(
  input: string,
): { ok: true; value: string } | { ok: false; error: string } {
  const text = input.trim();
  if (!text) return { ok: false, error: 'enter an IP address or CIDR range, e.g. 10.0.0.0/24' };
  const parsed = parseCidr(text);
  return parsed.ok
    ? { ok: true, value: parsed.value.text }
    : { ok: false, error: `${text} is not an IPv4/IPv6 address or CIDR range: ${parsed.error}` };
}
