/**
 * `egress run --policy FILE -- CMD [ARG...]`: checks the flags (bad values exit 2 with the flag
 * named) and runs the sandbox (src/dataplane/sandbox/host/run-session.ts). Exits with the
 * command's exit code (128 + n when a signal ended it).
 */
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { upstreamsFor } from '../../dataplane/dns/setup.js';
import { findHostRegistries } from '../../dataplane/host-registries.js';
import { checkCaFiles } from '../../dataplane/inspect/upstream.js';
import type { LogLevel } from '../../dataplane/log.js';
import { parsePins } from '../../dataplane/net/resolver.js';
import type { SpawnedBridge } from '../../dataplane/sandbox/host/launcher.js';
import { parsePublish, type PublishSpec } from '../../dataplane/sandbox/host/publish.js';
import {
  parseProxyUrl,
  type RemoteProxyAddress,
} from '../../dataplane/sandbox/host/remote-proxy.js';
import { runSession, type RunPolicy } from '../../dataplane/sandbox/host/run-session.js';
import { loadPolicyFromOptions, type PolicyOptions } from '../../dataplane/sources/policy-file.js';
import { emptyPolicy } from '../../policy/model.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';

export interface RunCommandOptions extends PolicyOptions {
  resolve?: string[];
  auditLog?: string;
  quiet?: boolean;
  workspace?: string;
  stateDir?: string;
  upstreamCa?: string[];
  dnsUpstream?: string[];
  logLevel?: LogLevel;
  /** Write the policy learned from what the command reached here (runs in monitor mode). */
  learn?: string;
  publish?: string[];
  proxy?: string;
  dns?: string;
}

/** The policy the run enforces; with --learn, the given one (or deny-all) in monitor mode. */
function policyForRun(options: RunCommandOptions): RunPolicy {
  if (options.proxy && !options.policy) {
    if (!options.dns)
      throw new UsageError(
        "with --proxy, give --policy FILE (the sandbox's DNS answers by it) or --dns HOST:PORT (the running proxy's DNS, egress proxy --dns-listen)",
      );
    // The running proxy's DNS decides every name; this side only passes questions on.
    const policy = { ...emptyPolicy('running proxy', 'restrict'), default: 'allow' as const };
    return { policy, warnings: [], registries: { byEcosystem: {}, all: [] }, extras: {} };
  }
  if (!options.learn) return loadPolicyFromOptions(options);
  if (options.policy) {
    const loaded = loadPolicyFromOptions(options);
    return { ...loaded, policy: { ...loaded.policy, mode: 'monitor' }, learnBase: loaded.policy };
  }
  const registries =
    options.hostRegistries === false ? { byEcosystem: {}, all: [] } : findHostRegistries();
  const policy = emptyPolicy('learned', 'monitor');
  return { policy, warnings: [], registries, extras: registries.byEcosystem };
}

/** --learn's file must be writable before the command runs, not after (issue 16.9). */
function checkLearnWritable(path: string): void {
  const file = resolve(path);
  try {
    if (existsSync(file)) accessSync(file, fsConstants.W_OK);
    else accessSync(dirname(file), fsConstants.W_OK);
  } catch (err) {
    throw new UsageError(
      `--learn ${path}: cannot write there (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose a writable path`,
    );
  }
}

function parseFlags(options: RunCommandOptions) {
  if (options.learn) checkLearnWritable(options.learn);
  let pins: Map<string, string[]>;
  try {
    pins = parsePins(options.resolve ?? []);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  try {
    checkCaFiles(options.upstreamCa ?? []);
  } catch (err) {
    throw new UsageError(`--upstream-ca: ${(err as Error).message}`);
  }
  let upstreams;
  try {
    // Not the sandbox's own DNS (it lives in another network namespace): no address to skip.
    upstreams = upstreamsFor({
      listen: { host: '', port: 0 },
      upstreams: options.dnsUpstream ?? [],
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let publish: PublishSpec[];
  try {
    publish = (options.publish ?? []).map(parsePublish);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let remote: RemoteProxyAddress | null = null;
  if (options.proxy) {
    if (options.learn)
      throw new UsageError('--learn needs the proxy egress run starts itself: drop --proxy');
    try {
      remote = parseProxyUrl(options.proxy);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (options.dns) {
    if (!remote) throw new UsageError("--dns goes with --proxy (the running proxy's DNS)");
    try {
      upstreams = upstreamsFor({ listen: { host: '', port: 0 }, upstreams: [options.dns] });
    } catch (err) {
      throw new UsageError(`--dns: ${(err as Error).message}`);
    }
  }
  return { pins, upstreams, publish, remote };
}

export async function runRun(
  command: string[],
  options: RunCommandOptions,
  io: Io,
  early?: SpawnedBridge,
): Promise<number> {
  if (command.length === 0) throw new UsageError('give the command to run after --');
  const { pins, upstreams, publish, remote } = parseFlags(options);
  return runSession(
    {
      command,
      loadPolicy: () => policyForRun(options),
      pins,
      upstreams,
      publish,
      remote,
      ...(options.auditLog !== undefined ? { auditLog: options.auditLog } : {}),
      ...(options.quiet !== undefined ? { quiet: options.quiet } : {}),
      ...(options.workspace !== undefined ? { workspace: options.workspace } : {}),
      ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
      ...(options.upstreamCa !== undefined ? { upstreamCa: options.upstreamCa } : {}),
      ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
      ...(options.learn !== undefined ? { learn: options.learn } : {}),
    },
    io,
    early,
  );
}
