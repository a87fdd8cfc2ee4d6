/**
 * Every `egress proxy` flag checked and parsed before anything starts listening (bad values
 * exit 2 with the flag named), shared by the single process, the supervisor and its workers.
 */
import { availableParallelism } from 'node:os';
import type { LogLevel } from '../../dataplane/log.js';
import { checkCaFiles } from '../../dataplane/inspect/upstream.js';
import { parseParentProxy } from '../../dataplane/net/parent-proxy.js';
import { parsePins } from '../../dataplane/net/resolver.js';
import type { ProxyFlags, ProxyNodeOptions } from '../../dataplane/node/proxy-node-options.js';
import { UsageError } from '../errors.js';
import type { PolicyOptions } from '../../dataplane/sources/policy-file.js';
import { parseEntrances, type EntranceFlags } from './proxy-entrances.js';
import {
  asUsage,
  parseLimits,
  parseListen,
  positiveInt,
  type LimitFlags,
} from './proxy-options.js';

export interface ProxyCommandOptions
  extends ProxyNodeOptions, PolicyOptions, EntranceFlags, LimitFlags {
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
  /** Proxy processes sharing the listening sockets: a number or "auto" (one per CPU). */
  workers?: string;
}

export type { ProxyFlags };

/** Upper bound for --workers: more processes than this only add memory and contention. */
export const MAX_WORKERS = 64;

export function parseWorkers(text: string | undefined): number {
  if (text === undefined) return 1;
  if (text === 'auto') return availableParallelism();
  const n = /^[0-9]{1,3}$/.test(text) ? Number(text) : 0;
  if (n < 1 || n > MAX_WORKERS)
    throw new UsageError(`--workers must be "auto" or a number from 1 to ${MAX_WORKERS}`);
  return n;
}

export function parseProxyFlags(options: ProxyCommandOptions): ProxyFlags {
  const listen = parseListen(options.listen);
  const entrances = parseEntrances(options);
  const pins = asUsage(() => parsePins(options.resolve ?? []));
  asUsage(() => checkCaFiles(options.upstreamCa ?? []), '--upstream-ca: ');
  return {
    listen,
    entrances,
    pins,
    admin: options.adminListen ? parseListen(options.adminListen, '--admin-listen') : null,
    dnsListen: options.dnsListen ? parseListen(options.dnsListen, '--dns-listen') : null,
    parentProxy: options.upstreamProxy
      ? asUsage(() => parseParentProxy(options.upstreamProxy!))
      : undefined,
    drainMs: positiveInt(options.drainTimeout, '--drain-timeout') ?? 10_000,
    limits: parseLimits(options),
    workers: parseWorkers(options.workers),
  };
}
