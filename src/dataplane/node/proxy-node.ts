/**
^ * The proxy runtime (`egress proxy`): runs the enforcement point until SIGTERM/SIGINT — the HTTP/CONNECT/SOCKS5
 * listener, optional transparent listeners, policy-aware DNS and the admin listener. SIGHUP
 * reloads the policies atomically (a bad new policy is refused with its error and the old one
 * stays); SIGTERM drains.
 *
 * With `--workers N` the process becomes a supervisor (proxy-supervisor.ts) and N copies of
 * this command serve the listeners; each worker runs `serveProxy` without DNS and admin, which
 * the supervisor keeps.
 */
import { ProxyMetrics } from '../admin/proxy-metrics.js';
import { Deciders } from '../decider/deciders.js';
import { createLogger } from '../log.js';
import { SystemResolver } from '../net/resolver.js';
import { EgressProxy } from '../proxy/proxy-server.js';
import { startListening } from '../net/listen.js';
import { startEntrances } from './proxy-entrances.js';
import {
  DRAINED,
  type Output,
  type ProxyFlags,
  type ProxyNodeOptions,
} from './proxy-node-options.js';
import { closeAudit, createDns, openAudit, startAdmin, startDns } from './proxy-services.js';
import { reloadFailure } from '../sources/file-policy-source.js';
import type { PolicySource } from '../sources/policy-source.js';
import { superviseWorkers } from './proxy-supervisor.js';
import { isProxyWorker, WorkerLink } from './worker-link.js';

/**
 * Runs the proxy until SIGTERM/SIGINT and resolves with the exit code (DRAINED, or a failed
 * worker's). Throws ConfigError (bad input: exit 2) or RuntimeFailure (exit 1) before serving.
 * In a `--workers` worker process it serves as that worker; with `flags.workers > 1` it
 * supervises the workers.
 */
export async function runProxyNode(
  options: ProxyNodeOptions,
  flags: ProxyFlags,
  source: PolicySource,
  io: Output,
): Promise<number> {
  if (isProxyWorker()) return serveProxy(options, flags, source, io, new WorkerLink());
  if (flags.workers > 1) return superviseWorkers(options, flags, source, io);
  return serveProxy(options, flags, source, io, null);
}

/** Lines a worker would print go to the supervisor, which prints them once for all workers. */
function collectingIo(io: Output, lines: string[]): Output {
  return { out: io.out, err: (text) => void lines.push(text) };
}

/**
 * One proxy process: the whole proxy, or (with `worker`) one of the supervisor's workers,
 * which serves the listeners only and reports to the supervisor instead of printing.
 */
async function serveProxy(
  options: ProxyNodeOptions,
  flags: ProxyFlags,
  source: PolicySource,
  io: Output,
  worker: WorkerLink | null,
): Promise<number> {
  const baseLog = createLogger(options.logLevel ?? 'info');
  const log = worker ? baseLog.child({ worker: worker.id }) : baseLog;
  const lines: string[] = [];
  const say = worker ? collectingIo(io, lines) : io;
  const policies = source.provider;

  const auditSetup = await openAudit(
    options,
    io,
    log,
    worker
      ? undefined
      : {
          description: `egress proxy starting on ${options.listen} (${source.summary}).`,
          extra: { listen: options.listen, policies: policies.describe() },
        },
  );
  const { bus } = auditSetup;

  // eslint-disable-next-line prefer-const -- assigned below; the metrics read it when scraped
  let proxy: EgressProxy;
  // Only the admin listener serves the metrics; without it, counting would only keep the event
  // bus active, so every request would build events nobody reads.
  const metrics = flags.admin
    ? new ProxyMetrics(bus, {
        openConnections: () => proxy.connections,
        acceptedConnections: () => proxy.acceptedConnections,
        auditHealthy: () => bus.healthy,
      })
    : null;
  const deciders = new Deciders({
    bus,
    log,
    onCall: (kind, outcome, seconds) => metrics?.observeDecider(kind, outcome, seconds),
  });
  proxy = new EgressProxy({
    ...flags.listen,
    policies,
    resolver: new SystemResolver({ pins: flags.pins }),
    bus,
    log,
    limits: flags.limits,
    decider: deciders,
    ...(flags.parentProxy ? { parentProxy: flags.parentProxy } : {}),
    ...(options.accessHint ? { accessHint: options.accessHint } : {}),
    inspect: {
      ...(options.stateDir ? { stateDir: options.stateDir } : {}),
      upstreamCa: options.upstreamCa ?? [],
    },
  });

  // The supervisor serves DNS and the admin listener for all workers.
  const dns = worker ? null : createDns(flags, options, policies, auditSetup, log);

  let adminServer: Awaited<ReturnType<typeof startAdmin>> = null;
  try {
    const address = await startListening('--listen', options.listen, () => proxy.start());
    const shown =
      address.family === 'IPv6'
        ? `[${address.address}]:${address.port}`
        : `${address.address}:${address.port}`;
    log.info({ listen: shown, policies: source.summary }, 'egress proxy listening');
    const workers = worker ? `; ${flags.workers} workers` : '';
    say.err(`egress proxy listening on ${shown} (${source.summary}${workers})\n`);
    await startEntrances(proxy, flags.entrances, log, say);
    await startDns(dns, log, io, flags);
    adminServer =
      worker || !metrics
        ? null
        : await startAdmin(
            flags,
            metrics,
            policies,
            () => (auditSetup.audit ? (bus.healthy ? 'ok' : 'failed') : 'disabled'),
            log,
            io,
          );
  } catch (err) {
    // A port in use: close what did start, so the process exits with the one line (issue 16.5).
    await Promise.all([proxy.close(0), dns?.close()]).catch(() => undefined);
    metrics?.close();
    await closeAudit(auditSetup, options, null);
    throw err;
  }
  if (flags.parentProxy)
    log.info({ upstreamProxy: flags.parentProxy.display }, 'parent proxy configured');
  worker?.serveStatus(metrics, () => bus.healthy);
  worker?.listening(lines);

  return new Promise<number>((resolve) => {
    const reload = () => {
      try {
        const { summary } = source.reload();
        deciders.clearCache();
        log.info({ policies: summary }, 'policy reloaded');
      } catch (err) {
        log.error(
          { error: reloadFailure(err) },
          'policy reload refused; keeping the previous policy',
        );
      }
    };
    let stopping = false;
    const stop = (signal: string) => {
      // A worker may get both the terminal's SIGINT and the supervisor's SIGTERM.
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'draining');
      process.off('SIGHUP', reload);
      Promise.all([proxy.close(flags.drainMs), dns?.close()])
        .then(() => adminServer?.close())
        .then(() => metrics?.close())
        .then(() => worker?.close())
        .then(() => source.close())
        .then(() => closeAudit(auditSetup, options, worker ? null : signal))
        .then(() => resolve(DRAINED))
        .catch(() => resolve(DRAINED));
    };
    process.on('SIGHUP', reload);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
