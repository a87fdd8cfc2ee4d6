/**
 * The end-of-run summary on stderr: each denied destination once, with how often, the rule or
 * default that denied it, and the policy line that would allow it. Collected from the event
 * bus (request.denied, refused DNS questions, dropped UDP; in monitor mode what the policy
 * would have denied). Nothing is printed when nothing was denied.
 */
import { accessAdviceLine, suggestAllowRule } from '../../../policy/engine/suggest-rule.js';
import type { EventBus } from '../../events/event-bus.js';
import type { AuditEvent } from '../../../protocol/audit-event.js';
import { addCount, countedDestination, type CountedKind } from './counted-destination.js';

export type DenialKind = CountedKind;

export interface Denial {
  kind: DenialKind;
  host: string;
  port: number;
  transport: 'tcp' | 'udp';
  ip?: string;
  count: number;
  /** Enforced (denied) or only recorded (monitor mode: would be denied). */
  enforced: boolean;
  reason: string;
  rule: AuditEvent['rule'];
}

function kindOf(event: AuditEvent): DenialKind | null {
  const denied = event.verdict === 'deny' || event.wouldDeny === true;
  if (event.type === 'udp.dropped') return 'udp';
  if (event.type === 'request.denied') return 'connection';
  if (event.type === 'request.allowed' && event.wouldDeny) return 'connection';
  if (event.type === 'dns.query' && denied) return 'dns';
  return null;
}

export class DenialCollector {
  private readonly denials = new Map<string, Denial>();
  private readonly unsubscribe: () => void;

  constructor(bus: EventBus) {
    this.unsubscribe = bus.subscribe((event) => this.add(event));
  }

  add(event: AuditEvent): void {
    const kind = kindOf(event);
    const d = event.destination;
    if (!kind || !d) return;
    const { host, port, count } = countedDestination(kind, { ...event, destination: d });
    const key = `${kind}|${host}|${port}`;
    const existing = this.denials.get(key);
    if (existing) {
      existing.count = addCount(kind, existing.count, count);
      return;
    }
    this.denials.set(key, {
      kind,
      host,
      port,
      transport: kind === 'udp' ? 'udp' : 'tcp',
      ...(d.ip ? { ip: d.ip } : {}),
      count,
      enforced: event.type !== 'request.allowed' && event.enforced !== false,
      reason: event.reason ?? 'unknown',
      rule: event.rule,
    });
  }

  get all(): Denial[] {
    return [...this.denials.values()];
  }

  close(): void {
    this.unsubscribe();
  }
}

function why(d: Denial): string {
  if (d.rule) {
    const where = d.rule.source ? ` at ${d.rule.source}` : '';
    return `rule ${d.rule.index + 1} (${d.rule.kind}${where})`;
  }
  if (d.reason === 'default_deny') return 'the default (deny)';
  if (d.reason.startsWith('ip_class:')) return `address class ${d.reason.slice(9)}`;
  return d.reason;
}

function what(d: Denial): string {
  if (d.kind === 'dns') return `${d.host} (name lookup)`;
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  return `${host}:${d.port}${d.kind === 'udp' ? '/udp' : ''}`;
}

function times(d: Denial): string {
  const unit = d.kind === 'udp' ? 'packet' : d.kind === 'dns' ? 'lookup' : 'connection';
  return `${d.count} ${unit}${d.count === 1 ? '' : 's'}`;
}

function suggestion(d: Denial): string {
  const allow =
    d.kind === 'dns'
      ? `- allow: ["${d.host}"]`
      : suggestAllowRule(
          { host: d.host, port: d.port, transport: d.transport, ...(d.ip ? { ip: d.ip } : {}) },
          d.reason,
        );
  return accessAdviceLine(d.rule, allow);
}

/** The summary text, or '' when nothing was denied. */
export function renderSummary(denials: readonly Denial[], policyName: string): string {
  if (denials.length === 0) return '';
  const enforced = denials.filter((d) => d.enforced);
  const monitored = denials.filter((d) => !d.enforced);
  const lines: string[] = [];
  const section = (list: Denial[], title: string) => {
    if (!list.length) return;
    lines.push(title);
    const width = Math.min(48, Math.max(...list.map((d) => what(d).length)));
    for (const d of list) {
      lines.push(`  ${what(d).padEnd(width)}  ${times(d)}, ${why(d)}`);
      lines.push(`  ${' '.repeat(width)}  ${suggestion(d)}`);
    }
  };
  section(
    enforced,
    `egress: policy "${policyName}" denied ${enforced.length} destination${enforced.length === 1 ? '' : 's'}:`,
  );
  section(
    monitored,
    `egress: policy "${policyName}" would deny ${monitored.length} destination${monitored.length === 1 ? '' : 's'} (monitor mode let them through):`,
  );
  return lines.join('\n') + '\n';
}
