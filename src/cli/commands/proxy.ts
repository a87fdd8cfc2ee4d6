/**
 * `egress proxy`: runs the enforcement point until SIGTERM/SIGINT. SIGHUP reloads the policy
 * atomically (a bad new policy is refused with its error and the old one stays).
 */
import { compilePolicy } from '../../policy/index.js';
import { formatDiagnostic, PolicyError } from '../../policy/source/diagnostics.js';
import { AuditLog } from '../../dataplane/events/audit-log.js';
import { EventBus } from '../../dataplane/events/event-bus.js';
import { createLogger, type LogLevel } from '../../dataplane/log.js';
import { parsePins, SystemResolver } from '../../dataplane/net/resolver.js';
import { ListenerPolicy } from '../../dataplane/proxy/client-identity.js';
import { EgressProxy } from '../../dataplane/proxy/proxy-server.js';
import { EXIT_OK, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { loadPolicyFromOptions, type PolicyOptions } from '../load-policy.js';
import { parseEntrances, startEntrances, type EntranceFlags } from './proxy-entrances.js';

export interface ProxyCommandOptions extends PolicyOptions, EntranceFlags {
  listen: string;
  resolve?: string[];
  auditLog?: string;
  logLevel?: LogLevel;
  workspace?: string;
  accessHint?: string;
  connectTimeout?: string;
  idleTimeout?: string;
  maxConnections?: string;
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
  const entrances = parseEntrances(options);
  let pins: Map<string, string[]>;
  try {
    pins = parsePins(options.resolve ?? []);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const log = createLogger(options.logLevel ?? 'info');
  const loaded = loadPolicyFromOptions(options);
  const compile = (l: typeof loaded) => compilePolicy(l.policy, { ecosystemExtras: l.extras });
  const policies = new ListenerPolicy(compile(loaded), options.workspace ?? 'default');
  const audit = options.auditLog ? new AuditLog(options.auditLog) : null;
  await audit?.start();
  const bus = new EventBus(audit);
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
  const proxy = new EgressProxy({
    ...listen,
    policies,
    resolver: new SystemResolver({ pins }),
    bus,
    log,
    limits,
    ...(options.accessHint ? { accessHint: options.accessHint } : {}),
  });
  const address = await proxy.start();
  const shown =
    address.family === 'IPv6'
      ? `[${address.address}]:${address.port}`
      : `${address.address}:${address.port}`;
  log.info(
    { listen: shown, policy: loaded.policy.name, mode: loaded.policy.mode },
    'egress proxy listening',
  );
  io.err(
    `egress proxy listening on ${shown} (policy "${loaded.policy.name}", ${loaded.policy.mode})\n`,
  );
  await startEntrances(proxy, entrances, log, io);

  return new Promise<number>((resolve) => {
    const reload = () => {
      try {
        const next = loadPolicyFromOptions(options);
        policies.replace(compile(next));
        log.info({ policy: next.policy.name }, 'policy reloaded');
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
        .close(10_000)
        .then(() => audit?.close())
        .then(() => resolve(EXIT_OK))
        .catch(() => resolve(EXIT_OK));
    };
    process.on('SIGHUP', reload);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
