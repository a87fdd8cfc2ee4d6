/**
 * Fly.io network policy → model. Fly rules name no hosts: an egress allow rule opens a port and
 * protocol to every destination. Once a direction has a rule, the rest of that direction is
 * denied; a direction without rules stays open (Fly's own words: "the default for that
 * direction becomes deny all").
 */
import type { IngressRule, Policy, Rule, Selector, WorkspaceSelector } from '../../model.js';
import { emptyPolicy } from '../../model.js';
import type { Reporter } from '../../source/reporter.js';
import { validateWithSchema } from '../../source/validate.js';
import { openDocument } from '../common.js';
import type { FormatInput, ParsedPolicy, PolicyFormat } from '../types.js';
import { flyPolicySchema, type FlyPolicyRaw, type FlySelectorRaw } from './schema.js';

function convertSelector(raw: FlySelectorRaw, reporter: Reporter): WorkspaceSelector | undefined {
  const path = ['selector'];
  if (raw.all === false) {
    reporter.error(
      [...path, 'all'],
      '"all: false" selects no machines',
      'write "all: true", or list "machines" or "metadata" instead',
    );
    return undefined;
  }
  // Fly ANDs the parts of a selector; "all: true" adds nothing to machines or metadata.
  if (raw.machines && raw.metadata) {
    reporter.error(
      [...path, 'metadata'],
      'egress applies a policy to machine ids or to metadata, not both at once',
      'keep one of "machines" or "metadata" (Fly would require both to match)',
      { key: true },
    );
    return undefined;
  }
  if (raw.machines) {
    if (raw.machines.length === 0) {
      reporter.error([...path, 'machines'], '"machines" is empty, so it selects no machines');
      return undefined;
    }
    return { ids: raw.machines.map((m) => m.id) };
  }
  if (raw.metadata) {
    if (Object.keys(raw.metadata).length === 0) {
      reporter.error([...path, 'metadata'], '"metadata" is empty', 'add "key: value" pairs');
      return undefined;
    }
    return { metadata: raw.metadata };
  }
  if (raw.all) return { all: true };
  reporter.error(
    path,
    'the selector selects nothing',
    'write {"all": true}, "machines" or "metadata"',
  );
  return undefined;
}

export function convertFly(raw: FlyPolicyRaw, reporter: Reporter, file: string): Policy {
  const egress: Rule[] = [];
  const ingress: IngressRule[] = [];
  raw.rules.forEach((rule, i) => {
    const path = ['rules', i];
    if (rule.action !== 'allow') {
      reporter.error(
        [...path, 'action'],
        `Fly network policies only have "allow" rules, not "${rule.action}"`,
        'remove this rule: once a direction has an allow rule, everything else in it is denied',
      );
      return;
    }
    const ports = rule.ports.flatMap((p, j) => {
      if (typeof p.port === 'number') return [{ port: p.port, protocol: p.protocol, j }];
      reporter.error(
        [...path, 'ports', j, 'port'],
        `Fly ports are single numbers, not "${p.port}"`,
        'write one {"protocol": ..., "port": ...} entry per port',
      );
      return [];
    });
    if (rule.direction === 'ingress') {
      ports.forEach(({ port, protocol, j }) => {
        ingress.push({
          ports: [{ from: port, to: port }],
          transport: protocol,
          source: reporter.location([...path, 'ports', j]),
        });
      });
      return;
    }
    const selectors: Selector[] = ports.map(({ port, protocol, j }) => ({
      ports: [{ from: port, to: port }],
      transport: protocol,
      source: reporter.location([...path, 'ports', j]),
    }));
    egress.push({ kind: 'allow', selectors, source: reporter.location(path) });
  });
  if (raw.rules.length === 0)
    reporter.warn(['rules'], 'this policy has no rules, so it restricts nothing', undefined, {
      key: true,
    });
  const appliesTo = convertSelector(raw.selector, reporter);

  const policy = emptyPolicy(raw.name, 'restrict');
  policy.description = `Fly.io network policy${raw.id ? ` ${raw.id}` : ''}`;
  policy.rules = egress;
  policy.default = egress.length ? 'deny' : 'allow';
  policy.ingress = { default: ingress.length ? 'deny' : 'allow', allow: ingress };
  if (appliesTo) policy.appliesTo = appliesTo;
  policy.origin = { file, format: 'fly' };
  return policy;
}

export function parseFly(input: FormatInput): ParsedPolicy {
  const reporter = openDocument(input);
  const raw = validateWithSchema(flyPolicySchema, reporter);
  reporter.throwIfErrors();
  const policy = convertFly(raw!, reporter, input.file);
  reporter.throwIfErrors();
  return { policy, warnings: reporter.diagnostics.filter((d) => d.severity === 'warning') };
}

export const flyFormat: PolicyFormat = {
  id: 'fly',
  title: 'Fly.io Machines network policy (JSON body of POST /v1/apps/<app>/network_policies)',
  parse: parseFly,
};
