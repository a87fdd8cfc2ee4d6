/**
 * `egress proxy`: runs the enforcement point until SIGTERM/SIGINT. SIGHUP reloads the policy
 * atomically (a bad new policy is refused with its error and the old one stays).
 */
import { formatDiagnostic, PolicyError } from '../../policy/source/diagnostics.js';
import { AuditLog } from '../../dataplane/events/audit-log.js';
import { EventBus } from '../../dataplane/events/event-bus.js';
import { createLogger, type LogLevel } from '../../dataplane/log.js';
import { parsePins, SystemResolver } from '../../dataplane/net/resolver.js';
import { EgressProxy } from '../../dataplane/proxy/proxy-server.js';
import { AdminServer } from '../../dataplane/admin/admin-server.js';
import { ProxyMetrics } from '../../dataplane/admin/proxy-metrics.js';
import { Deciders } from '../../dataplane/decider/deciders.js';
import { parseParentProxy, type ParentProxy } from '../../dataplane/net/parent-proxy.js';
import { EXIT_OK, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import type { PolicyOptions } from '../load-policy.js';
import { setupPolicies } from './proxy-policies.js';

export interface ProxyCommandOptions extends PolicyOptions {
  listen: string;
  resolve?: string[];
  auditLog?: string;
  logLevel?: LogLevel;
  workspace?: string;
  accessHint?: string;
  connectTimeout?: string;
  idleTimeout?: string;
  maxConnections?: string;
  /** Several workspaces (file or folder) instead of --policy. */
  workspaces?: string;
  /** With --workspaces: the policy for clients that send no credentials. */
  defaultPolicy?: string;
  adminListen?: string;
  upstreamProxy?: string;
  drainTimeout?: string;
}

export function parseListen(text: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):([0-9]{1,5})$/.exec(text);
  if (!m || Number(m[3]) > 65535)
    throw new UsageError(`${flag} "${text}" must look like HOST:PORT (e.g. 127.0.0.1:3128)`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) <= 0)
    throw new UsageError(`${flag} must be a positive whole number, not "${value}"`);
  return Number(value);
}

export async function runProxy(options: ProxyCommandOptions, io: Io): Promise<number> {
  const listen = parseListen(options.listen);
  let pins: Map<string, string[]>;
  try {
    pins = parsePins(options.resolve ?? []);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const log = createLogger(options.logLevel ?? 'info');
  const admin = options.adminListen ? parseListen(options.adminListen, '--admin-listen') : null;
  let parentProxy: ParentProxy | undefined;
  try {
    parentProxy = options.upstreamProxy ? parseParentProxy(options.upstreamProxy) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const drainMs = positiveInt(options.drainTimeout, '--drain-timeout') ?? 10_000;
  const setup = setupPolicies(options);
  const policies = setup.provider;
  const audit = options.auditLog ? new AuditLog(options.auditLog) : null;
  await audit?.start();
  const bus = new EventBus(audit);
  // eslint-disable-next-line prefer-const -- assigned below; the metrics read it when scraped
  let proxy: EgressProxy;
  const metrics = new ProxyMetrics(bus, {
    openConnections: () => proxy.connections,
    acceptedConnections: () => proxy.acceptedConnections,
    auditHealthy: () => bus.healthy,
  });
  const deciders = new Deciders({
    bus,
    log,
    onCall: (kind, outcome, seconds) => metrics.observeDecider(kind, outcome, seconds),
  });
  const limits = {
    ...(positiveInt(options.connectTimeout, '--connect-timeout')
      ? { connectTimeoutMs: positiveInt(options.connectTimeout, '--connect-timeout')! }
      : {}),
    ...(positiveInt(options.idleTimeout, '--idle-timeout')
      ? { idleTimeoutMs: positiveInt(options.idleTimeout, '--idle-timeout')! }
      : {}),
    ...(positiveInt(options.maxConnections, '--max-connections')
      ? { maxConnections: positiveInt(options.maxConnections, '--max-connections')! }
      : {}),
  };
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
  });
  const address = await proxy.start();
  const shown =
    address.family === 'IPv6'
      ? `[${address.address}]:${address.port}`
      : `${address.address}:${address.port}`;
  log.info({ listen: shown, policies: setup.summary }, 'egress proxy listening');
  io.err(`egress proxy listening on ${shown} (${setup.summary})\n`);
  const adminServer = admin
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
      proxy
        .close(drainMs)
        .then(() => adminServer?.close())
        .then(() => metrics.close())
        .then(() => audit?.close())
        .then(() => resolve(EXIT_OK))
        .catch(() => resolve(EXIT_OK));
    };
    process.on('SIGHUP', reload);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
