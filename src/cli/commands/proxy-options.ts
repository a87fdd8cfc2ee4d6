/** Parsing of `egress proxy` flags that are more than a string: addresses, numbers, limits. */
import type { ProxyLimits } from '../../dataplane/proxy/context.js';
import { UsageError } from '../errors.js';

export function parseListen(text: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):([0-9]{1,5})$/.exec(text);
  if (!m || Number(m[3]) > 65535)
    throw new UsageError(`${flag} "${text}" must look like HOST:PORT (e.g. 127.0.0.1:3128)`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) <= 0)
    throw new UsageError(`${flag} must be a positive whole number, not "${value}"`);
  return Number(value);
}

export interface LimitFlags {
  connectTimeout?: string;
  idleTimeout?: string;
  maxConnections?: string;
}

export function parseLimits(flags: LimitFlags): Partial<ProxyLimits> {
  const limits: Partial<ProxyLimits> = {};
  const connect = positiveInt(flags.connectTimeout, '--connect-timeout');
  const idle = positiveInt(flags.idleTimeout, '--idle-timeout');
  const max = positiveInt(flags.maxConnections, '--max-connections');
  if (connect) limits.connectTimeoutMs = connect;
  if (idle) limits.idleTimeoutMs = idle;
  if (max) limits.maxConnections = max;
  return limits;
}

/** Runs `fn`, turning any error it throws into a UsageError (bad flag values: exit 2). */
export function asUsage<T>(fn: () => T, prefix = ''): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${prefix}${(err as Error).message}`);
  }
}
