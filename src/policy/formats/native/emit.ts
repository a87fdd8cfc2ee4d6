/**
 * Writes a model policy as native YAML (what `egress import` prints). Reading the output back
 * gives a policy that decides every destination exactly as the input did; a test checks this
 * for every fixture of every format.
 */
import { stringify } from 'yaml';
import type { DeciderSettings, Policy, PortRange, Rule, Selector } from '../../model.js';
import { DEFAULT_MAX_BODY_CAPTURE } from '../../model.js';
import { formatPortRange } from '../../patterns/ports.js';

function portsValue(ports: readonly PortRange[]): Array<number | string> | number | string {
  const list = ports.map((p) => (p.from === p.to ? p.from : formatPortRange(p)));
  return list.length === 1 ? list[0]! : list;
}

/** A selector in its shortest faithful form: a string where one says it all. */
export function selectorValue(s: Selector): string | Record<string, unknown> {
  const onePort = s.ports && s.ports.length === 1 ? s.ports[0]! : undefined;
  const simple =
    s.transport === undefined &&
    !s.includeSubdomains &&
    (s.ports === undefined || onePort !== undefined);
  const portSuffix = onePort ? `:${formatPortRange(onePort)}` : '';
  if (simple) {
    if (s.ecosystem !== undefined && !onePort) return `ecosystem:${s.ecosystem}`;
    if (s.host !== undefined) return `${s.host}${portSuffix}`;
    if (s.cidr !== undefined && (!onePort || !s.cidr.includes(':')))
      return `${s.cidr}${portSuffix}`;
  }
  const out: Record<string, unknown> = {};
  if (s.host !== undefined) out.host = s.host;
  if (s.cidr !== undefined) out.cidr = s.cidr;
  if (s.ecosystem !== undefined) out.ecosystem = s.ecosystem;
  if (s.includeSubdomains) out.includeSubdomains = true;
  if (s.host === undefined && s.cidr === undefined && s.ecosystem === undefined) out.any = true;
  if (s.ports && s.ports.length) out.ports = portsValue(s.ports);
  if (s.transport !== undefined) out.transport = s.transport;
  return out;
}

function deciderValue(d: DeciderSettings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (d.url !== undefined) out.url = d.url;
  if (d.module !== undefined) out.module = d.module;
  out.timeoutMs = d.timeoutMs;
  out.cache = d.cache;
  if (d.contextMessages !== undefined) out.contextMessages = d.contextMessages;
  if (d.contextMetadata !== undefined) out.contextMetadata = d.contextMetadata;
  if (d.metadata !== undefined) out.metadata = d.metadata;
  return out;
}

function ruleValue(rule: Rule): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rule.name !== undefined) out.name = rule.name;
  out[rule.kind] = rule.selectors.map(selectorValue);
  if (rule.enforceAlways) out.enforce = 'always';
  if (rule.decider) out.decider = deciderValue(rule.decider);
  return out;
}

export function policyToNativeObject(policy: Policy): Record<string, unknown> {
  const out: Record<string, unknown> = { version: 1, name: policy.name };
  if (policy.description !== undefined) out.description = policy.description;
  out.mode = policy.mode;
  out.default = policy.default;
  if (policy.privateRanges !== 'deny') out.privateRanges = policy.privateRanges;
  if (policy.appliesTo) out.appliesTo = policy.appliesTo;
  out.rules = policy.rules.map(ruleValue);
  if (policy.resources.length) {
    out.resources = policy.resources.map((r) => ({
      kind: r.kind,
      ...(r.name !== undefined ? { name: r.name } : {}),
      host: r.host,
      ...(r.ports ? { ports: portsValue(r.ports) } : {}),
    }));
  }
  if (policy.viaUpstreamProxy.length)
    out.viaUpstreamProxy = policy.viaUpstreamProxy.map(selectorValue);
  if (policy.ingress) {
    out.ingress = {
      default: policy.ingress.default,
      allow: policy.ingress.allow.map((r) => ({
        ...(r.ports ? { ports: portsValue(r.ports) } : {}),
        transport: r.transport,
      })),
    };
  }
  if (policy.decider) out.decider = deciderValue(policy.decider);
  if (policy.redact.length) out.redact = policy.redact;
  if (policy.maxBodyCapture !== DEFAULT_MAX_BODY_CAPTURE)
    out.maxBodyCapture = policy.maxBodyCapture;
  if (policy.logLevel) out.logLevel = policy.logLevel;
  if (policy.tests?.length)
    out.tests = policy.tests.map((t) => ({ dest: t.dest, expect: t.expect }));
  return out;
}

export function emitNative(policy: Policy, options: { header?: string } = {}): string {
  const body = stringify(policyToNativeObject(policy), { lineWidth: 0, indentSeq: true });
  const header = options.header
    ? options.header
        .split('\n')
        .map((l) => `# ${l}`.trimEnd())
        .join('\n') + '\n'
    : '';
  return header + body;
}
