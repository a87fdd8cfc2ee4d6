/** Reads the native format (YAML or JSON) into the model, with positioned errors. */
import type {
  DeciderSettings,
  Ingress,
  Policy,
  Resource,
  Rule,
  RuleKind,
  Selector,
  TransportMatch,
} from '../../model.js';
import { DEFAULT_DECIDER_TIMEOUT_MS, DEFAULT_MAX_BODY_CAPTURE } from '../../model.js';
import { parseHostPattern } from '../../patterns/host-pattern.js';
import { parseCidr } from '../../patterns/cidr.js';
import type { Path } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { validateWithSchema } from '../../source/validate.js';
import {
  checkEcosystem,
  checkRedactPatterns,
  convertPorts,
  openDocument,
  selectorFromString,
  type SelectorDefaults,
} from '../common.js';
import type { FormatInput, ParsedPolicy, PolicyFormat } from '../types.js';
import { nativePolicySchema, type NativeRuleRaw } from './schema.js';
import { convertTests } from './tests.js';
import type { z } from 'zod';
import type { selectorObjectSchema, deciderSchema } from './schema.js';

type SelectorObject = z.infer<typeof selectorObjectSchema>;
type Extras = FormatInput['ecosystemExtras'];

function convertSelectorObject(
  raw: SelectorObject,
  reporter: Reporter,
  path: Path,
  defaults: SelectorDefaults,
  extras: Extras,
): Selector | undefined {
  const targets = (['host', 'cidr', 'ip', 'ecosystem', 'any'] as const).filter(
    (k) => raw[k] !== undefined,
  );
  if (targets.length > 1) {
    reporter.error(
      [...path, targets[1]!],
      `a destination has one of "host", "cidr", "ecosystem" or "any", but this one has ${targets.map((t) => `"${t}"`).join(' and ')}`,
      'split it into two entries',
      { key: true },
    );
    return undefined;
  }
  const selector: Selector = { source: reporter.location(path) };
  const ports = convertPorts(raw.ports, reporter, [...path, 'ports']) ?? defaults.ports;
  if (ports) selector.ports = ports;
  const transport: TransportMatch | undefined = raw.transport ?? defaults.transport;
  if (transport) selector.transport = transport;
  if (raw.host !== undefined) {
    const pattern = parseHostPattern(raw.host);
    if (!pattern.ok) {
      const asIp = parseCidr(raw.host);
      if (asIp.ok)
        reporter.error(
          [...path, 'host'],
          `"${raw.host}" is an IP address`,
          `write "cidr: ${asIp.value.text}"`,
        );
      else reporter.error([...path, 'host'], pattern.error, pattern.hint);
      return undefined;
    }
    if (pattern.warning) reporter.warn([...path, 'host'], pattern.warning);
    if (raw.includeSubdomains && pattern.value.kind !== 'exact') {
      reporter.error(
        [...path, 'includeSubdomains'],
        `includeSubdomains needs an exact host name, not the wildcard "${pattern.value.text}"`,
        `write "host: ${pattern.value.text.replace(/^\*\*?\./, '')}" with includeSubdomains, or drop includeSubdomains`,
        { key: true },
      );
      return undefined;
    }
    selector.host = pattern.value.text;
    if (raw.includeSubdomains) selector.includeSubdomains = true;
  } else if (raw.includeSubdomains !== undefined && raw.ecosystem === undefined) {
    reporter.error(
      [...path, 'includeSubdomains'],
      'includeSubdomains only applies to a "host"',
      undefined,
      { key: true },
    );
  }
  const cidrText = raw.cidr ?? raw.ip;
  if (cidrText !== undefined) {
    const cidr = parseCidr(cidrText);
    if (!cidr.ok) {
      reporter.error([...path, raw.cidr !== undefined ? 'cidr' : 'ip'], cidr.error, cidr.hint);
      return undefined;
    }
    selector.cidr = cidr.value.text;
  }
  if (raw.ecosystem !== undefined) {
    if (!checkEcosystem(raw.ecosystem, reporter, [...path, 'ecosystem'], extras)) return undefined;
    selector.ecosystem = raw.ecosystem;
    if (raw.includeSubdomains) selector.includeSubdomains = true;
  }
  return selector;
}

function convertSelectors(
  raw: unknown,
  reporter: Reporter,
  path: Path,
  defaults: SelectorDefaults,
  extras: Extras,
): Selector[] {
  const list = Array.isArray(raw) ? raw : [raw];
  const out: Selector[] = [];
  list.forEach((item, i) => {
    const itemPath = Array.isArray(raw) ? [...path, i] : path;
    const selector =
      typeof item === 'string'
        ? selectorFromString(item, reporter, itemPath, defaults, extras)
        : convertSelectorObject(item as SelectorObject, reporter, itemPath, defaults, extras);
    if (selector) out.push(selector);
  });
  return out;
}

function convertDecider(
  raw: z.infer<typeof deciderSchema>,
  reporter: Reporter,
  path: Path,
): DeciderSettings {
  if (raw.url === undefined && raw.module === undefined)
    reporter.error(
      path,
      'a decider needs "url" (a webhook) or "module" (a JS file)',
      'add "url: https://..." or "module: ./decider.mjs"',
    );
  if (raw.url !== undefined && raw.module !== undefined)
    reporter.error(
      [...path, 'module'],
      'a decider has either "url" or "module", not both',
      undefined,
      { key: true },
    );
  if (raw.url !== undefined) {
    let ok = false;
    try {
      const u = new URL(raw.url);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) reporter.error([...path, 'url'], `"${raw.url}" is not an http or https URL`);
  }
  const settings: DeciderSettings = {
    timeoutMs: raw.timeoutMs ?? DEFAULT_DECIDER_TIMEOUT_MS,
    cache: raw.cache ?? true,
  };
  if (raw.url !== undefined) settings.url = raw.url;
  if (raw.module !== undefined) settings.module = raw.module;
  if (raw.contextMessages !== undefined) settings.contextMessages = raw.contextMessages;
  if (raw.contextMetadata !== undefined) settings.contextMetadata = raw.contextMetadata;
  if (raw.metadata !== undefined) settings.metadata = raw.metadata;
  return settings;
}

function convertRule(
  raw: NativeRuleRaw,
  reporter: Reporter,
  path: Path,
  extras: Extras,
): Rule | undefined {
  const kinds = (['allow', 'deny', 'decide'] as const).filter((k) => raw[k] !== undefined);
  if (kinds.length === 0) {
    reporter.error(
      path,
      'a rule needs one of "allow", "deny" or "decide"',
      'write e.g. "- allow: [example.com]"',
    );
    return undefined;
  }
  if (kinds.length > 1) {
    reporter.error(
      [...path, kinds[1]!],
      `a rule has exactly one of "allow", "deny" or "decide", but this one has both "${kinds[0]}" and "${kinds[1]}"`,
      'split it into two rules (order matters: first match wins)',
      { key: true },
    );
    return undefined;
  }
  const kind: RuleKind = kinds[0]!;
  const defaults: SelectorDefaults = {};
  const ports = convertPorts(raw.ports, reporter, [...path, 'ports']);
  if (ports) defaults.ports = ports;
  if (raw.transport) defaults.transport = raw.transport;
  const selectors = convertSelectors(raw[kind], reporter, [...path, kind], defaults, extras);
  const rule: Rule = { kind, selectors, source: reporter.location(path) };
  if (raw.name !== undefined) rule.name = raw.name;
  if (raw.enforce !== undefined) {
    // Enforcing an allow would mean nothing; enforcing a decider's deny is not supported.
    if (kind === 'deny') rule.enforceAlways = true;
    else
      reporter.error(
        [...path, 'enforce'],
        `"enforce: always" applies to deny rules only; this is ${kind === 'allow' ? 'an allow' : 'a decide'} rule`,
        'remove "enforce", or move the destinations to a deny rule',
        { key: true },
      );
  }
  if (raw.decider !== undefined) {
    if (kind !== 'decide')
      reporter.warn(
        [...path, 'decider'],
        `"decider" only matters on a decide rule; this is an ${kind} rule`,
        undefined,
        { key: true },
      );
    rule.decider = convertDecider(raw.decider, reporter, [...path, 'decider']);
  }
  return rule;
}

export function parseNative(input: FormatInput): ParsedPolicy {
  const reporter = openDocument(input);
  const value = reporter.doc.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    reporter.error(
      [],
      'a policy file holds a mapping with at least "version", "name" and "mode"',
      'start with "version: 1"',
    );
    reporter.throwIfErrors();
  }
  const raw = validateWithSchema(nativePolicySchema, reporter);
  reporter.throwIfErrors();
  const extras = input.ecosystemExtras;
  const r = raw!;
  const rules: Rule[] = [];
  (r.rules ?? []).forEach((rule, i) => {
    const converted = convertRule(rule, reporter, ['rules', i], extras);
    if (converted) rules.push(converted);
  });
  const resources: Resource[] = [];
  (r.resources ?? []).forEach((res, i) => {
    const selectors = convertSelectors(res.host, reporter, ['resources', i, 'host'], {}, extras);
    const sel = selectors[0];
    if (!sel) return;
    if (sel.ecosystem || sel.ports) {
      reporter.error(
        ['resources', i, 'host'],
        'a resource host is one host name or address',
        'put ports in "ports:"',
      );
      return;
    }
    const resource: Resource = {
      kind: res.kind,
      host: sel.host ?? sel.cidr!,
      source: reporter.location(['resources', i]),
    };
    if (res.name !== undefined) resource.name = res.name;
    const ports = convertPorts(res.ports, reporter, ['resources', i, 'ports']);
    if (ports) resource.ports = ports;
    resources.push(resource);
  });
  checkRedactPatterns(r.redact, reporter);
  let ingress: Ingress | undefined;
  if (r.ingress) {
    ingress = {
      default: r.ingress.default ?? 'deny',
      allow: (r.ingress.allow ?? []).map((rule, i) => {
        const ports = convertPorts(rule.ports, reporter, ['ingress', 'allow', i, 'ports']);
        return {
          transport: rule.transport ?? 'tcp',
          ...(ports ? { ports } : {}),
          source: reporter.location(['ingress', 'allow', i]),
        };
      }),
    };
  }
  const viaUpstreamProxy =
    r.viaUpstreamProxy === undefined
      ? []
      : convertSelectors(r.viaUpstreamProxy, reporter, ['viaUpstreamProxy'], {}, extras);
  const decider = r.decider ? convertDecider(r.decider, reporter, ['decider']) : undefined;
  rules.forEach((rule, i) => {
    if (rule.kind === 'decide' && !rule.decider && !decider) {
      reporter.error(
        ['rules', i, 'decide'],
        'this decide rule has no decider to ask',
        'add "decider: {url: ...}" to the rule or the policy',
        { key: true },
      );
    }
  });
  const tests = convertTests(r.tests ?? [], reporter);
  reporter.throwIfErrors();

  const policy: Policy = {
    version: 1,
    name: r.name,
    mode: r.mode,
    default: r.default ?? 'deny',
    rules,
    resources,
    redact: r.redact ?? [],
    maxBodyCapture: r.maxBodyCapture ?? DEFAULT_MAX_BODY_CAPTURE,
    privateRanges: r.privateRanges ?? 'deny',
    viaUpstreamProxy,
    origin: { file: input.file, format: 'native' },
  };
  if (r.description !== undefined) policy.description = r.description;
  if (ingress) policy.ingress = ingress;
  if (decider) policy.decider = decider;
  if (r.logLevel) policy.logLevel = r.logLevel;
  if (r.appliesTo) policy.appliesTo = r.appliesTo as Policy['appliesTo'];
  if (tests.length) policy.tests = tests;
  return { policy, warnings: reporter.diagnostics.filter((d) => d.severity === 'warning') };
}

export const nativeFormat: PolicyFormat = {
  id: 'native',
  title: 'egress native policy (YAML or JSON, version 1)',
  parse: parseNative,
};
