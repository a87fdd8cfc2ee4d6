/**
 * The parts of `egress proxy` that both a single proxy process and the `--workers` supervisor
 * run: the audit log with its start/stop records, the policy-aware DNS, and the admin listener.
 */
import { AdminServer, type AuditStatus, type MetricsText } from '../admin/admin-server.js';
import { createDnsServer } from '../dns/setup.js';
import { AuditLog } from '../events/audit-log.js';
import { EventBus } from '../events/event-bus.js';
import type { createLogger } from '../log.js';
import { startListening } from '../net/listen.js';
import type { PolicyProvider } from '../proxy/client-identity.js';
import { asConfigError, RuntimeFailure } from '../errors.js';
import type { Output, ProxyFlags, ProxyNodeOptions } from './proxy-node-options.js';

type Log = ReturnType<typeof createLogger>;

export interface AuditSetup {
  audit: AuditLog | null;
  bus: EventBus;
}

/** Opens the audit log (if any); refuses to go on when it is not writable (fail closed). */
export async function openAudit(
  options: ProxyNodeOptions,
  io: Output,
  log: Log,
  started?: { description: string; extra: Record<string, unknown> },
): Promise<AuditSetup> {
  const audit = options.auditLog
    ? new AuditLog(options.auditLog, true, (err) => {
        log.error({ err: err.message }, 'audit log failed: denying all traffic until restarted');
        io.err(
          `egress: ${err.message}; every connection is refused until the log is writable and egress restarts\n`,
        );
      })
    : null;
  const bus = new EventBus(audit);
  try {
    await audit?.start();
    // The first record proves the log is writable before any traffic flows.
    if (started)
      await bus.emit({ type: 'proxy.started', client: processClient(options), ...started });
  } catch (err) {
    throw new RuntimeFailure((err as Error).message);
  }
  return { audit, bus };
}

/** The client context of the proxy's own records (proxy.started, proxy.stopped). */
function processClient(options: ProxyNodeOptions) {
  return { workspace: options.workspace ?? null, session: null, user: null, address: null };
}

/** Records proxy.stopped (best effort: the log may be the reason for stopping) and closes it. */
export async function closeAudit(
  setup: AuditSetup,
  options: ProxyNodeOptions,
  signal: string | null,
): Promise<void> {
  if (signal !== null)
    await setup.bus
      .emit({
        type: 'proxy.stopped',
        client: processClient(options),
        description: `egress proxy stopped (${signal}).`,
      })
      .catch(() => undefined);
  await setup.audit?.close();
}

export interface DnsService {
  start(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

/** Builds the policy-aware DNS (bad --dns-* values throw a usage error before anything starts). */
export function createDns(
  flags: ProxyFlags,
  options: ProxyNodeOptions,
  policies: PolicyProvider,
  setup: AuditSetup,
  log: Log,
): DnsService | null {
  const listen = flags.dnsListen;
  if (!listen) return null;
  return asConfigError(() =>
    createDnsServer({
      listen,
      upstreams: options.dnsUpstream ?? [],
      policies,
      pins: flags.pins,
      bus: setup.bus,
      log,
    }),
  );
}

export async function startDns(
  dns: DnsService | null,
  log: Log,
  io: Output,
  flags: ProxyFlags,
): Promise<void> {
  if (!dns) return;
  const shown = flags.dnsListen ? `${flags.dnsListen.host}:${flags.dnsListen.port}` : '';
  const address = await startListening('--dns-listen', shown, () => dns.start());
  log.info({ dnsListen: `${address.host}:${address.port}` }, 'egress DNS listening');
  io.err(`egress DNS listening on ${address.host}:${address.port} (UDP and TCP)\n`);
}

export async function startAdmin(
  flags: ProxyFlags,
  metrics: MetricsText,
  policies: PolicyProvider,
  audit: () => AuditStatus | Promise<AuditStatus>,
  log: Log,
  io: Output,
): Promise<AdminServer | null> {
  if (!flags.admin) return null;
  const server = new AdminServer({
    ...flags.admin,
    metrics,
    log,
    policies: () => policies.describe(),
    audit,
  });
  const a = await startListening('--admin-listen', `${flags.admin.host}:${flags.admin.port}`, () =>
    server.start(),
  );
  log.info({ admin: `${a.address}:${a.port}` }, 'admin listener (/metrics, /healthz)');
  io.err(`egress admin listening on ${a.address}:${a.port}\n`);
  return server;
}
