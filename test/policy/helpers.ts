/** Small builders shared by the policy tests: policies from YAML or from selectors. */
import {
  compilePolicy,
  decide,
  emptyPolicy,
  type CompiledPolicy,
  type Decision,
  type Policy,
  type Rule,
  type Selector,
  type Transport,
} from '../../src/policy/index.js';
import { parseNative } from '../../src/policy/formats/native/parse.js';

/** Parses native YAML (a header with version/name/mode is added unless `full`). */
export function nativePolicy(
  body: string,
  options: { mode?: string; full?: boolean } = {},
): Policy {
  const text = options.full
    ? body
    : `version: 1\nname: test\nmode: ${options.mode ?? 'restrict'}\n${body}`;
  return parseNative({ text, file: 'p.yaml' }).policy;
}

export function compileNative(body: string, options: { mode?: string } = {}): CompiledPolicy {
  return compilePolicy(nativePolicy(body, options), { version: 'v1' });
}

/** A restrict policy with the given rules and default deny. */
export function policyWith(rules: Rule[], patch: Partial<Policy> = {}): Policy {
  return { ...emptyPolicy('test', 'restrict'), rules, ...patch };
}

/** Does a single allow rule with this selector allow `host` (tcp/443)? */
export function selectorMatches(selector: Selector, host: string, port = 443): boolean {
  const compiled = compilePolicy(policyWith([{ kind: 'allow', selectors: [selector] }]));
  const d = decide(compiled, { host, port });
  return d.reason === 'allowed_by_rule';
}

export function ask(
  compiled: CompiledPolicy,
  host: string,
  port = 443,
  transport?: Transport,
): Decision {
  return decide(compiled, { host, port, ...(transport ? { transport } : {}) });
}
