/**
 * Prometheus metrics of one proxy, on a Registry of its own (no global default registry: two
 * proxies in one process, as in tests, never share counters). Almost everything is counted from
 * the event bus, so any part of the data plane that emits events (the DNS forwarder included)
 * is counted without knowing about metrics; gauges read their source when scraped.
 */
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import type { AuditEvent } from '../../protocol/audit-event.js';
import type { EventBus } from '../events/event-bus.js';

export interface MetricSources {
  /** Open client connections now. */
  openConnections?: () => number;
  /** Client connections accepted since start. */
  acceptedConnections?: () => number;
  /** False once the audit log has failed. */
  auditHealthy: () => boolean;
}

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly decisions: Counter<'verdict' | 'reason'>;
  private readonly events: Counter<'type'>;
  private readonly failures: Counter<'reason'>;
  private readonly bytesIn: Counter;
  private readonly bytesOut: Counter;
  private readonly dnsQueries: Counter<'rcode'>;
  private readonly deciderFailures: Counter<'reason'>;
  private readonly deciderLatency: Histogram<'kind' | 'outcome'>;
  private readonly unsubscribe: () => void;

  constructor(bus: EventBus, sources: MetricSources) {
    const registers = [this.registry];
    this.decisions = new Counter({
      name: 'egress_decisions_total',
      help: 'Decisions recorded (request.allowed and request.denied events), by verdict and reason.',
      labelNames: ['verdict', 'reason'],
      registers,
    });
    this.events = new Counter({
      name: 'egress_events_total',
      help: 'Audit events emitted, by type.',
      labelNames: ['type'],
      registers,
    });
    this.failures = new Counter({
      name: 'egress_requests_failed_total',
      help: 'Allowed requests that failed upstream (request.failed), by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.bytesIn = new Counter({
      name: 'egress_bytes_in_total',
      help: 'Bytes received from destinations (closed connections).',
      registers,
    });
    this.bytesOut = new Counter({
      name: 'egress_bytes_out_total',
      help: 'Bytes sent to destinations (closed connections).',
      registers,
    });
    this.dnsQueries = new Counter({
      name: 'egress_dns_queries_total',
      help: 'DNS queries answered by the policy-aware forwarder (dns.query events), by rcode.',
      labelNames: ['rcode'],
      registers,
    });
    this.deciderFailures = new Counter({
      name: 'egress_decider_failures_total',
      help: 'Decider calls that failed closed (decider.failure events), by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.deciderLatency = new Histogram({
      name: 'egress_decider_duration_seconds',
      help: 'Time to get an answer from a decider (cache hits excluded), by kind and outcome.',
      labelNames: ['kind', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    new Gauge({
      name: 'egress_connections_open',
      help: 'Client connections open now.',
      registers,
      collect() {
        this.set(sources.openConnections?.() ?? 0);
      },
    });
    new Counter({
      name: 'egress_connections_total',
      help: 'Client connections accepted since start.',
      registers,
      collect() {
        this.reset();
        this.inc(sources.acceptedConnections?.() ?? 0);
      },
    });
    new Gauge({
      name: 'egress_audit_healthy',
      help: '1 while the audit log is writable; 0 once it failed (traffic is then refused).',
      registers,
      // Summed over proxy workers this would count writers; any failed writer means 0.
      aggregator: 'min',
      collect() {
        this.set(sources.auditHealthy() ? 1 : 0);
      },
    });
    this.unsubscribe = bus.subscribe((event) => this.count(event));
  }

  /** For the decider client's onCall hook. */
  observeDecider(kind: string, outcome: string, seconds: number): void {
    this.deciderLatency.observe({ kind, outcome }, seconds);
  }

  /** The metrics as data, for summing over proxy workers (prom-client's aggregate()). */
  json(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    return this.registry.getMetricsAsJSON();
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.unsubscribe();
  }

  private count(event: AuditEvent): void {
    this.events.inc({ type: event.type });
    switch (event.type) {
      case 'request.allowed':
      case 'request.denied':
        this.decisions.inc({
          verdict: event.verdict ?? (event.type === 'request.allowed' ? 'allow' : 'deny'),
          reason: event.reason ?? 'unknown',
        });
        break;
      case 'request.closed':
        this.bytesIn.inc(event.bytesIn ?? 0);
        this.bytesOut.inc(event.bytesOut ?? 0);
        break;
      case 'request.failed':
        this.failures.inc({ reason: event.reason ?? 'unknown' });
        this.bytesIn.inc(event.bytesIn ?? 0);
        this.bytesOut.inc(event.bytesOut ?? 0);
        break;
      case 'dns.query':
        this.dnsQueries.inc({ rcode: rcodeOf(event) });
        break;
      case 'decider.failure':
        this.deciderFailures.inc({ reason: event.reason ?? 'unknown' });
        break;
    }
  }
}

/** A dns.query event's rcode: a top-level `rcode` field, or `dns.rcode`. */
function rcodeOf(event: AuditEvent): string {
  const fields = event as unknown as Record<string, unknown>;
  const dns = fields.dns as { rcode?: unknown } | undefined;
  const rcode = fields.rcode ?? dns?.rcode;
  return typeof rcode === 'string' || typeof rcode === 'number' ? String(rcode) : 'unknown';
}
