/**
 * The messages between `egress proxy --workers N`'s supervisor and its workers (node:cluster
 * IPC). A worker says when it listens (with the lines it would have printed, so the supervisor
 * prints them once for all), and answers the supervisor's metrics and health questions, which
 * the supervisor sums for its admin listener.
 */
import cluster from 'node:cluster';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ProxyMetrics } from '../admin/proxy-metrics.js';

/** Set in a worker's environment by the supervisor: this process serves, it does not fork. */
export const WORKER_ENV = 'EGRESS_PROXY_WORKER';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

export type WorkerMessage =
  | { type: 'egress:listening'; lines: string[] }
  | {
      type: 'egress:status';
      requestId: number;
      metrics: MetricsJson | null;
      auditHealthy: boolean;
    };

export type SupervisorMessage = { type: 'egress:status?'; requestId: number };

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return type === 'egress:listening' || type === 'egress:status';
}

/** True in a process the supervisor forked. */
export function isProxyWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

/** The worker's side: report listening, answer status questions. */
export class WorkerLink {
  private onMessage: ((message: unknown) => void) | null = null;

  get id(): number {
    return cluster.worker?.id ?? 0;
  }

  listening(lines: string[]): void {
    this.send({ type: 'egress:listening', lines });
  }

  /** Answers status questions with these metrics (null without --admin-listen) and health. */
  serveStatus(metrics: ProxyMetrics | null, auditHealthy: () => boolean): void {
    this.onMessage = (message: unknown) => {
      const m = message as Partial<SupervisorMessage> | null;
      if (m?.type !== 'egress:status?' || typeof m.requestId !== 'number') return;
      const requestId = m.requestId;
      const reply = (json: MetricsJson | null) =>
        this.send({
          type: 'egress:status',
          requestId,
          metrics: json,
          auditHealthy: auditHealthy(),
        });
      if (!metrics) reply(null);
      else metrics.json().then(reply, () => reply(null));
    };
    process.on('message', this.onMessage);
  }

  /** After draining: closes the IPC channel, which would otherwise keep the worker alive. */
  close(): void {
    if (this.onMessage) process.off('message', this.onMessage);
    this.onMessage = null;
    cluster.worker?.disconnect();
  }

  private send(message: WorkerMessage): void {
    // The supervisor may already be gone (it was killed): nothing to tell then.
    if (process.connected) process.send?.(message);
  }
}
