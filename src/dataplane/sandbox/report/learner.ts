/**
 * `egress run --learn OUT.yaml`: watches the event bus while the command runs in monitor mode,
 * says on stderr once per new destination what the policy would not have allowed, and at the
 * end writes a native policy that allows it (src/policy/learn: grouping, address checks).
 *
 * What counts: connections the policy would deny (request.allowed with wouldDeny), dropped UDP
 * the policy does not allow, and name lookups it would refuse (listed, not allowed). What the
 * starting policy already allows is not learned again: its rules are kept as they are.
 */
import { writeFileSync } from 'node:fs';
import { parseDocument, isMap, isSeq, type Node } from 'yaml';
import type { EcosystemExtras } from '../../../policy/ecosystems/index.js';
import { emitNative } from '../../../policy/formats/native/emit.js';
import { parseNative } from '../../../policy/formats/native/parse.js';
import {
  learnPolicy,
  type LearnedPolicy,
  type Observation,
  type ObservationKind,
} from '../../../policy/learn/learned-policy.js';
import type { Policy } from '../../../policy/model.js';
import type { EventBus } from '../../events/event-bus.js';
import type { AuditEvent } from '../../../protocol/audit-event.js';
import { addCount, countedDestination } from './counted-destination.js';

function kindOf(event: AuditEvent): ObservationKind | null {
  if (event.type === 'request.allowed' && event.wouldDeny) return 'connection';
  if (event.type === 'udp.dropped' && event.verdict !== 'allow') return 'udp';
  if (event.type === 'dns.query' && (event.wouldDeny || event.verdict === 'deny')) return 'dns';
  return null;
}

function label(o: Observation): string {
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return o.kind === 'udp' ? `${host}:${o.port}/udp` : `${host}:${o.port}`;
}

export class Learner {
  private readonly seen = new Map<string, Observation>();
  private readonly unsubscribe: () => void;

  /** `progress` gets one line per new destination (not per connection). */
  constructor(
    bus: EventBus,
    private readonly progress: (line: string) => void,
  ) {
    this.unsubscribe = bus.subscribe((event) => this.add(event));
  }

  add(event: AuditEvent): void {
    const kind = kindOf(event);
    const d = event.destination;
    if (!kind || !d) return;
    const { host, port, count } = countedDestination(kind, { ...event, destination: d });
    const key = `${kind}|${host.toLowerCase()}|${port}`;
    const existing = this.seen.get(key);
    if (existing) {
      existing.count = addCount(kind, existing.count, count);
      if (d.ip && !existing.ips.includes(d.ip)) existing.ips.push(d.ip);
      return;
    }
    const o: Observation = {
      kind,
      host,
      port,
      ips: kind === 'connection' && d.ip ? [d.ip] : [],
      count,
      firstSeen: event.time,
    };
    this.seen.set(key, o);
    if (kind !== 'dns') this.progress(`egress: learn: + ${label(o)}\n`);
  }

  get observations(): Observation[] {
    return [...this.seen.values()];
  }

  close(): void {
    this.unsubscribe();
  }
}

/** A command word as a shell would need it (for the header comment). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface LearnOutput {
  learned: LearnedPolicy;
  yaml: string;
}

/** Puts each learned entry's comment above it (count, first seen). */
function annotate(yaml: string, learned: LearnedPolicy): string {
  if (learned.ruleIndex < 0) return yaml;
  const doc = parseDocument(yaml);
  const rules = doc.get('rules');
  if (!isSeq(rules)) return yaml;
  const rule = rules.items[learned.ruleIndex];
  if (!isMap(rule)) return yaml;
  const allow = rule.get('allow');
  if (!isSeq(allow)) return yaml;
  allow.items.forEach((item, i) => {
    const comment = learned.entries[i]?.comment;
    if (comment) (item as Node).commentBefore = ` ${comment}`;
  });
  return doc.toString({ lineWidth: 0, indentSeq: true });
}

/** The YAML --learn writes, checked by reading it back with the native parser. */
export function renderLearned(
  observations: Observation[],
  options: {
    base?: Policy;
    command: string[];
    extras: EcosystemExtras;
    file: string;
    now?: Date;
  },
): LearnOutput {
  const learned = learnPolicy(observations, {
    ...(options.base ? { base: options.base } : {}),
    ...(options.base ? {} : { name: 'learned' }),
    extras: options.extras,
  });
  const when = (options.now ?? new Date()).toISOString();
  const header = [
    `Learned by: egress run --learn ${options.file} -- ${options.command.map(shellWord).join(' ')}`,
    `on ${when}. Review it before use: it allows what the command reached, nothing else.`,
    ...(learned.lookupsOnly.length
      ? [
          'Looked up but never connected to (not allowed; add them if the command needs them):',
          ...learned.lookupsOnly.map((name) => `  ${name}`),
        ]
      : []),
  ].join('\n');
  const yaml = annotate(emitNative(learned.policy, { header }), learned);
  // Never write what egress itself could not read back.
  parseNative({ text: yaml, file: options.file, ecosystemExtras: options.extras });
  return { learned, yaml };
}

export function writeLearned(path: string, output: LearnOutput): void {
  writeFileSync(path, output.yaml, { mode: 0o644 });
}

/** The end-of-run lines for --learn: what was written, and what it still cannot allow. */
export function learnReport(learned: LearnedPolicy, file: string): string {
  const n = learned.entries.length;
  const lines = [
    n
      ? `egress: learn: wrote ${file}: ${n} learned entr${n === 1 ? 'y' : 'ies'} (rule "learned")`
      : `egress: learn: wrote ${file}: the command reached nothing the policy did not already allow`,
  ];
  for (const { observation: o, reason } of learned.stillDenied)
    lines.push(
      `egress: learn: ${label(o)} is still denied (${reason}): a deny rule of the starting policy matches it`,
    );
  if (learned.lookupsOnly.length)
    lines.push(
      `egress: learn: ${learned.lookupsOnly.length} name(s) only looked up were not allowed (listed in the file's header)`,
    );
  return lines.join('\n') + '\n';
}
