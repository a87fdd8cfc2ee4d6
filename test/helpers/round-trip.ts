/**
 * The import property: a policy read from any format, printed as native YAML and read back,
 * decides every destination exactly as the original. `probeDestinations` derives hits, misses
 * and near misses from the policy's own selectors so each fixture is probed where it matters.
 */
import assert from 'node:assert/strict';
import {
  compilePolicy,
  decide,
  type DestinationQuery,
  type Policy,
} from '../../src/policy/index.js';
import { emitNative } from '../../src/policy/formats/index.js';
import { parseNative } from '../../src/policy/formats/native/parse.js';
import { expandEcosystem } from '../../src/policy/ecosystems/index.js';
import type { Selector } from '../../src/policy/model.js';

function hostsFor(selector: Selector): string[] {
  if (selector.ecosystem !== undefined)
    return expandEcosystem(selector.ecosystem, selector).flatMap(hostsFor);
  if (selector.cidr !== undefined) {
    const base = selector.cidr.split('/')[0]!;
    if (base.includes(':')) return [base, `[${base}]`];
    const parts = base.split('.').map(Number);
    const next = [...parts.slice(0, 3), ((parts[3] ?? 0) + 1) % 256].join('.');
    return [base, next, `${(parts[0]! + 1) % 256}.${parts.slice(1).join('.')}`];
  }
  if (selector.host !== undefined) {
    const h = selector.host;
    if (h === '*' || h === '**') return ['anything.example', 'a.b.c.example'];
    const fixed = h.replace(/^(\*\*|\*)\./, '').replace(/\*/g, 'x');
    return [
      fixed,
      `a.${fixed}`,
      `a.b.${fixed}`,
      `not${fixed}`,
      `${fixed}.evil.test`,
      fixed.toUpperCase() + '.',
    ];
  }
  return ['any.example', '192.0.2.10'];
}

export function probeDestinations(policy: Policy): DestinationQuery[] {
  const selectors = [
    ...policy.rules.flatMap((r) => r.selectors),
    ...policy.viaUpstreamProxy,
    ...policy.resources.map((r) => ({ host: r.host, ...(r.ports ? { ports: r.ports } : {}) })),
  ];
  const hosts = new Set<string>([
    'example.com',
    'unlisted.test',
    '8.8.8.8',
    '127.0.0.1',
    '169.254.169.254',
    '::1',
  ]);
  const ports = new Set<number>([443, 80, 22, 53]);
  for (const s of selectors) {
    for (const h of hostsFor(s)) hosts.add(h);
    for (const p of s.ports ?? []) {
      ports.add(p.from);
      ports.add(p.to);
      if (p.to < 65535) ports.add(p.to + 1);
      if (p.from > 1) ports.add(p.from - 1);
    }
  }
  const out: DestinationQuery[] = [];
  for (const host of hosts)
    for (const port of ports)
      for (const transport of ['tcp', 'udp'] as const) out.push({ host, port, transport });
  return out;
}

/** Asserts that `policy` and its native YAML round trip decide every probe the same way. */
export function assertImportEquivalent(policy: Policy, extra: DestinationQuery[] = []): string {
  const yaml = emitNative(policy);
  const reread = parseNative({ text: yaml, file: 'imported.yaml' }).policy;
  const a = compilePolicy(policy, { version: 'x' });
  const b = compilePolicy(reread, { version: 'x' });
  assert.equal(reread.mode, policy.mode, 'mode survives import');
  for (const q of [...probeDestinations(policy), ...extra]) {
    const da = decide(a, q);
    const db = decide(b, q);
    const pick = (d: typeof da) => ({
      allowed: d.allowed,
      enforced: d.enforced,
      verdict: d.verdict,
      reason: d.reason,
      rule: d.rule?.index ?? null,
    });
    assert.deepEqual(
      pick(db),
      pick(da),
      `native YAML decides ${q.host}:${q.port}/${q.transport} differently\n${yaml}`,
    );
  }
  return yaml;
}
