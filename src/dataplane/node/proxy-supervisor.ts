/**
 * `egress proxy --workers N`: this process supervises N proxy workers that share the listening
 * sockets, so the proxy uses more than one CPU core. The supervisor itself keeps what must
 * exist once: the policy-aware DNS, the admin listener (metrics summed over the workers), the
 * proxy.started/proxy.stopped records, and the signals (SIGHUP reloads every worker, SIGTERM
 * drains them all). Each worker writes its own events to the same audit log (appends of whole
 * lines, each worker with its own group commit), so a denial is still on disk before its 403.
 */
import { AggregatorRegistry, Registry } from 'prom-client';
import type { AuditStatus } from '../admin/admin-server.js';
import { ProxyMetrics } from '../admin/proxy-metrics.js';
import { createLogger } from '../log.js';
import {
  DRAINED,
  type Output,
  type ProxyFlags,
  type ProxyNodeOptions,
} from './proxy-node-options.js';
import { reloadFailure } from '../sources/file-policy-source.js';
import type { PolicySource } from '../sources/policy-source.js';
import { closeAudit, createDns, openAudit, startAdmin, startDns } from './proxy-services.js';
import { WorkerPool, WorkerPoolFailure } from './worker-pool.js';

export async function superviseWorkers(
  options: ProxyNodeOptions,
  flags: ProxyFlags,
  source: PolicySource,
  io: Output,
): Promise<number> {
  const log = createLogger(options.logLevel ?? 'info');
  // The supervisor's own copy of the policies (the DNS needs it); each worker opens its own.
  const policies = source.provider;
  const auditSetup = await openAudit(options, io, log, {
    description: `egress proxy starting on ${options.listen} (${source.summary}; ${flags.workers} workers).`,
    extra: { listen: options.listen, policies: policies.describe(), workers: flags.workers },
  });
  const { bus } = auditSetup;
  // Counts what the supervisor itself records (DNS); the workers count the rest.
  const metrics = flags.admin ? new ProxyMetrics(bus, { auditHealthy: () => bus.healthy }) : null;
  const dns = createDns(flags, options, policies, auditSetup, log);

  const pool = new WorkerPool(flags.workers, log);
  let admin: Awaited<ReturnType<typeof startAdmin>> = null;
  const shutDown = async (signal: string | null) => {
    await pool.stop(flags.drainMs + 1_000);
    await dns?.close();
    await admin?.close();
    metrics?.close();
    await source.close();
    await closeAudit(auditSetup, options, signal);
  };
  try {
    for (const line of await pool.start()) io.err(line);
  } catch (err) {
    await shutDown(null);
    if (err instanceof WorkerPoolFailure) {
      io.err(`egress: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  try {
    await startDns(dns, log, io, flags);
  } catch (err) {
    await shutDown(null);
    throw err;
  }
  if (metrics) {
    const summed = {
      contentType: Registry.PROMETHEUS_CONTENT_TYPE,
      text: async () => {
        const parts = (await pool.status()).map((s) => s.metrics ?? []);
        return AggregatorRegistry.aggregate([await metrics.json(), ...parts]).metrics();
      },
    };
    const audit = async (): Promise<AuditStatus> => {
      if (!auditSetup.audit) return 'disabled';
      const workers = await pool.status();
      return bus.healthy && workers.every((w) => w.auditHealthy) ? 'ok' : 'failed';
    };
    try {
      admin = await startAdmin(flags, summed, policies, audit, log, io);
    } catch (err) {
      await shutDown(null);
      throw err;
    }
  }

  return new Promise<number>((resolve) => {
    const reload = () => {
      try {
        source.reload();
      } catch (err) {
        log.error(
          { error: reloadFailure(err) },
          'policy reload refused; keeping the previous policy',
        );
      }
      // Each worker reads the files again itself and refuses a bad policy the same way.
      pool.signal('SIGHUP');
    };
    let stopping = false;
    const stop = (signal: string, code: number) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'draining');
      process.off('SIGHUP', reload);
      shutDown(signal)
        .catch(() => undefined)
        .then(() => resolve(code));
    };
    process.on('SIGHUP', reload);
    process.once('SIGTERM', () => stop('SIGTERM', DRAINED));
    process.once('SIGINT', () => stop('SIGINT', DRAINED));
    void pool.failures().then((failure) => {
      io.err(`egress: ${failure.message}\n`);
      stop('workers failed', failure.exitCode);
    });
  });
}
