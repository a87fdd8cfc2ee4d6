/**
 * `egress proxy`: runs the enforcement point until SIGTERM/SIGINT — the HTTP/CONNECT/SOCKS5
 * listener, optional transparent listeners, policy-aware DNS and the admin listener. SIGHUP
 * reloads the policies atomically (a bad new policy is refused with its error and the old one
 * stays); SIGTERM drains.
 */
import { formatDiagnostic, PolicyError } from '../../policy/source/diagnostics.js';
import { AdminServer } from '../../dataplane/admin/admin-server.js';
import { ProxyMetrics } from '../../dataplane/admin/proxy-metrics.js';
import { Deciders } from '../../dataplane/decider/deciders.js';
import { createDnsServer } from '../../dataplane/dns/setup.js';
import { AuditLog } from '../../dataplane/events/audit-log.js';
import { EventBus } from '../../dataplane/events/event-bus.js';
import { checkCaFiles } from '../../dataplane/inspect/upstream.js';
import { createLogger, type LogLevel } from '../../dataplane/log.js';
import { parseParentProxy } from '../../dataplane/net/parent-proxy.js';
import { parsePins, SystemResolver } from '../../dataplane/net/resolver.js';
import { EgressProxy } from '../../dataplane/proxy/proxy-server.js';
import { EXIT_OK, RuntimeFailure } from '../errors.js';
import type { Io } from '../io.js';
import type { PolicyOptions } from '../load-policy.js';
import { parseEntrances, startEntrances, type EntranceFlags } from './proxy-entrances.js';
import {
  asUsage,
  parseLimits,
  parseListen,
  positiveInt,
  type LimitFlags,
} from './proxy-options.js';
import { setupPolicies } from './proxy-policies.js';

export { parseListen } from './proxy-options.js';

export interface ProxyCommandOptions extends PolicyOptions, EntranceFlags, LimitFlags {
  listen: string;
  resolve?: string[];
  auditLog?: string;
  logLevel?: LogLevel;
  workspace?: string;
  accessHint?: string;
  /** Several workspaces (file or folder) instead of --policy. */
  workspaces?: string;
  /** With --workspaces: the policy for clients that send no credentials. */
  defaultPolicy?: string;
  adminListen?: string;
  upstreamProxy?: string;
  drainTimeout?: string;
  stateDir?: string;
  upstreamCa?: string[];
  dnsListen?: string;
  dnsUpstream?: string[];
}

function openAudit(
  options: ProxyCommandOptions,
  io: Io,
  log: ReturnType<typeof createLogger>,
): AuditLog | null {
  if (!options.auditLog) return null;
  return new AuditLog(options.auditLog, true, (err) => {
    log.error({ err: err.message }, 'audit log failed: denying all traffic until restarted');
    io.err(
      `egress: ${err.message}; every connection is refused until the log is writable and egress restarts\n`,
    );
  });
}

export async function runProxy(options: ProxyCommandOptions, io: Io): Promise<number> {
  // Every flag is checked before anything starts listening.
  const listen = parseListen(options.listen);
  const entrances = parseEntrances(options);
  const pins = asUsage(() => parsePins(options.resolve ?? []));
  asUsage(() => checkCaFiles(options.upstreamCa ?? []), '--upstream-ca: ');
  const admin = options.adminListen ? parseListen(options.adminListen, '--admin-listen') : null;
  const dnsListen = options.dnsListen ? parseListen(options.dnsListen, '--dns-listen') : null;
  const parentProxy = options.upstreamProxy
    ? asUsage(() => parseParentProxy(options.upstreamProxy!))
    : undefined;
  const drainMs = positiveInt(options.drainTimeout, '--drain-timeout') ?? 10_000;
  const limits = parseLimits(options);
  const log = createLogger(options.logLevel ?? 'info');
  const setup = setupPolicies(options);
  const policies = setup.provider;

  const audit = openAudit(options, io, log);
  const bus = new EventBus(audit);
  try {
    await audit?.start();
    // The first record proves the log is writable before any traffic flows (fail closed).
    await bus.emit({
      type: 'proxy.started',
      client: { workspace: options.workspace ?? null, session: null, user: null, address: null },
      description: `egress proxy starting on ${options.listen} (${setup.summary}).`,
      extra: { listen: options.listen, policies: policies.describe() },
    });
  } catch (err) {
    throw new RuntimeFailure((err as Error).message);
  }

  // eslint-disable-next-line prefer-const -- assigned below; the metrics read it when scraped
  let proxy: EgressProxy;
  // Only the admin listener serves the metrics; without it, counting would only keep the event
  // bus active, so every request would build events nobody reads.
  const metrics = admin
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
    ...listen,
    policies,
    resolver: new SystemResolver({ pins }),
    bus,
    log,
    limits,
    decider: deciders,
    ...(parentProxy ? { parentProxy } : {}),
    ...(options.accessHint ? { accessHint: options.accessHint } : {}),
    inspect: {
      ...(options.stateDir ? { stateDir: options.stateDir } : {}),
      upstreamCa: options.upstreamCa ?? [],
    },
  });
  const dns = dnsListen
    ? asUsage(() =>
        createDnsServer({
          listen: dnsListen,
          upstreams: options.dnsUpstream ?? [],
          policies,
          pins,
          bus,
          log,
        }),
      )
    : null;

  const address = await proxy.start();
  const shown =
    address.family === 'IPv6'
      ? `[${address.address}]:${address.port}`
      : `${address.address}:${address.port}`;
  log.info({ listen: shown, policies: setup.summary }, 'egress proxy listening');
  io.err(`egress proxy listening on ${shown} (${setup.summary})\n`);
  await startEntrances(proxy, entrances, log, io);
  const dnsAddress = await dns?.start();
  if (dnsAddress) {
    log.info({ dnsListen: `${dnsAddress.host}:${dnsAddress.port}` }, 'egress DNS listening');
    io.err(`egress DNS listening on ${dnsAddress.host}:${dnsAddress.port} (UDP and TCP)\n`);
  }
  const adminServer =
    admin && metrics
      ? new AdminServer({
          ...admin,
          metrics,
          log,
          policies: () => policies.describe(),
          audit: () => (audit ? (bus.healthy ? 'ok' : 'failed') : 'disabled'),
        })
      : null;
  if (adminServer) {
    const a = await adminServer.start();
    log.info({ admin: `${a.address}:${a.port}` }, 'admin listener (/metrics, /healthz)');
    io.err(`egress admin listening on ${a.address}:${a.port}\n`);
  }
  if (parentProxy) log.info({ upstreamProxy: parentProxy.display }, 'parent proxy configured');

  return new Promise<number>((resolve) => {
    const reload = () => {
      try {
        const summary = setup.reload();
        deciders.clearCache();
        log.info({ policies: summary }, 'policy reloaded');
      } catch (err) {
        const detail =
          err instanceof PolicyError
            ? err.diagnostics.map(formatDiagnostic).join('; ')
            : (err as Error).message;
        log.error({ error: detail }, 'policy reload refused; keeping the previous policy');
      }
    };
    const stop = (signal: string) => {
      log.info({ signal }, 'draining');
      process.off('SIGHUP', reload);
      Promise.all([proxy.close(drainMs), dns?.close()])
        .then(() => adminServer?.close())
        .then(() => metrics?.close())
        .then(() =>
          bus
            .emit({
              type: 'proxy.stopped',
              client: {
                workspace: options.workspace ?? null,
                session: null,
                user: null,
                address: null,
              },
              description: `egress proxy stopped (${signal}).`,
            })
            .catch(() => undefined),
        )
        .then(() => audit?.close())
        .then(() => resolve(EXIT_OK))
        .catch(() => resolve(EXIT_OK));
    };
    process.on('SIGHUP', reload);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
