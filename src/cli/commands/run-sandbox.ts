import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
/**
 * `egress run --policy FILE -- CMD [ARG...]`: runs a command in a sandbox whose only way out is
 * this process's proxy and DNS (docs/sandbox.md). Exits with the command's exit code (128 + n
 * when a signal ended it); prints what the policy denied, with the lines that would allow it.
 */
import { dirname, resolve } from 'node:path';
import { compilePolicy } from '../../policy/index.js';
import { AuditLog } from '../../dataplane/events/audit-log.js';
import { EventBus } from '../../dataplane/events/event-bus.js';
import { createLogger, type LogLevel } from '../../dataplane/log.js';
import { parsePins, SystemResolver } from '../../dataplane/net/resolver.js';
import { ListenerPolicy } from '../../dataplane/proxy/client-identity.js';
import { EgressProxy } from '../../dataplane/proxy/proxy-server.js';
import { checkCaFiles } from '../../dataplane/inspect/upstream.js';
import { CertificateAuthority } from '../../dataplane/inspect/certificate-authority.js';
import { upstreamsFor } from '../../dataplane/dns/setup.js';
import { uuidv7 } from '../../protocol/event-id.js';
import { SandboxEntrances } from '../../dataplane/sandbox/host/entrances.js';
import { hiddenPaths, RunFiles } from '../../dataplane/sandbox/host/run-files.js';
import { sandboxEnv, type TrustFiles } from '../../dataplane/sandbox/host/env.js';
import { SandboxError, SandboxSession } from '../../dataplane/sandbox/host/session.js';
import { DenialCollector, renderSummary } from '../../dataplane/sandbox/report/summary.js';
import {
  checkPublish,
  listenPublished,
  parsePublish,
  type PublishSpec,
} from '../../dataplane/sandbox/host/publish.js';
import { planUdpRelays } from '../../dataplane/sandbox/rules/relay-plan.js';
import { UdpRelay } from '../../dataplane/sandbox/host/udp-relay.js';
import { AnsweredNames } from '../../dataplane/dns/answered-names.js';
import { OriginLookup } from '../../dataplane/sandbox/host/origins.js';
import { IngressEvents } from '../../dataplane/sandbox/host/ingress-events.js';
import {
  parseProxyUrl,
  RemoteProxy,
  type RemoteProxyAddress,
} from '../../dataplane/sandbox/host/remote-proxy.js';
import type { SpawnedBridge } from '../../dataplane/sandbox/host/launcher.js';
import { writeTrustFiles } from '../../dataplane/sandbox/host/trust-bundle.js';
import {
  Learner,
  learnReport,
  renderLearned,
  writeLearned,
} from '../../dataplane/sandbox/report/learner.js';
import { findHostRegistries } from '../../dataplane/host-registries.js';
import { emptyPolicy, type Policy } from '../../policy/model.js';
import { RuntimeFailure, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import {
  loadPolicyFromOptions,
  type LoadedPolicy,
  type PolicyOptions,
} from '../../dataplane/sources/policy-file.js';

/**
 * How long the catch-all TCP entrance waits for a redirected connection's first bytes before
 * judging it by its address (server-first protocols such as SMTP or MySQL say nothing first;
 * a TLS or HTTP client speaks at once, and a late ClientHello is still checked).
 */
const FIRST_BYTES_WAIT_MS = 250;

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
function policyForRun(options: RunCommandOptions): LoadedPolicy & { learnBase?: Policy } {
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
  if (options.learn) checkLearnWritable(options.learn);
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
  let session: SandboxSession;
  try {
    // First: the bridge's start-up overlaps with everything below.
    session = new SandboxSession(early);
  } catch (err) {
    throw new RuntimeFailure((err as Error).message);
  }
  const files = new RunFiles();
  const cleanups: Array<() => Promise<void> | void> = [() => files.remove()];
  try {
    const loaded = policyForRun(options);
    const compiled = compilePolicy(loaded.policy, { ecosystemExtras: loaded.extras });
    try {
      for (const warning of checkPublish(publish, compiled)) io.err(`egress: ${warning}\n`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const published = await Promise.all(
      publish.map(async (spec) => ({
        port: spec.port,
        hostPort: spec.hostPort,
        transport: spec.transport,
        ...(await listenPublished(spec)),
      })),
    ).catch((err: Error) => {
      throw new RuntimeFailure(err.message);
    });
    // After the hand-over these are closed already (a dgram socket throws on a second close).
    cleanups.push(() =>
      published.forEach((p) => {
        try {
          p.server.close();
        } catch {
          // Closed.
        }
      }),
    );
    const workspace = options.workspace ?? 'default';
    const sessionId = uuidv7(Date.now());
    const policies = new ListenerPolicy(compiled, workspace, sessionId);
    const client = { workspace, session: sessionId, user: null, address: null };
    const log = createLogger(options.logLevel ?? 'error');

    const stateDir = options.stateDir ?? files.sessionStateDir;
    let trust: TrustFiles | null = null;
    if (loaded.policy.mode === 'inspect' && remote)
      io.err(
        'egress: inspect mode with --proxy: the running proxy signs with its own CA; trust it in the command (egress ca export)\n',
      );
    else if (loaded.policy.mode === 'inspect') {
      const ca = await CertificateAuthority.open(stateDir, workspace);
      trust = writeTrustFiles(files.dir, ca.certificatePem);
    }

    const auditPath = options.auditLog ? resolve(options.auditLog) : undefined;
    // Opened (created) before the bridge's configuration is written: the bridge hides the audit
    // log from the command only if the file exists.
    const audit = auditPath
      ? new AuditLog(auditPath, true, (err) =>
          io.err(`egress: ${err.message}; the sandbox's connections are refused from now on\n`),
        )
      : null;
    const bus = new EventBus(audit);
    await audit?.start();
    cleanups.unshift(() => audit?.close());
    const resolver = new SystemResolver({ pins });
    const relayPlan = await planUdpRelays(loaded.policy, (name) => resolver.resolve(name));
    // The bridge sets up the namespaces while the proxy and the entrances are built.
    session.configure({
      command,
      env: sandboxEnv(process.env, trust, remote?.auth),
      cwd: process.cwd(),
      resolvConf: files.writeResolvConf(),
      hide: hiddenPaths({
        caDir: resolve(stateDir, 'ca'),
        ...(auditPath ? { auditLog: auditPath } : {}),
      }),
      udpPollSeconds: 5,
      udpRelay: relayPlan.matches,
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
    });
    await bus.emit({
      type: 'proxy.started',
      client,
      description: `egress run starting "${command.join(' ')}" with policy "${loaded.policy.name}" (${loaded.policy.mode}).`,
      extra: { command, policyName: loaded.policy.name },
    });

    const proxy = remote
      ? undefined
      : new EgressProxy({
          host: '127.0.0.1',
          port: 0,
          policies,
          resolver,
          bus,
          log,
          inspect: { stateDir, upstreamCa: options.upstreamCa ?? [] },
        });
    cleanups.unshift(() => proxy?.close());
    const origins = new OriginLookup((request) => session.askOrigins(request));
    cleanups.unshift(() => origins.close());
    const tcpOrigins = new OriginLookup((request) => session.askOrigins(request), 'tcp');
    cleanups.unshift(() => tcpOrigins.close());
    // A UDP flow, or a TCP connection that names nothing (SSH, a database protocol), to an
    // address the sandbox's DNS gave for an allowed name is decided by that name; for UDP, the
    // names of exact-name rules resolved at start count too.
    const answered = new AnsweredNames();
    const udpRelay = new UdpRelay({
      namesFor: (address) => [
        ...new Set([...(relayPlan.names.get(address) ?? []), ...answered.namesFor(address)]),
      ],
      compiled: () => policies.compiled,
      bus,
      client,
      lookup: origins,
    });
    const entrances = new SandboxEntrances({
      ...(proxy ? { proxy } : {}),
      ...(remote ? { remote: new RemoteProxy(remote) } : {}),
      policies,
      upstreams,
      pins,
      bus,
      log,
      udpRelay,
      onDnsAnswered: (name, answers) => answered.record(name, answers),
      original: {
        // The listeners are dual-stack: an IPv4 peer shows as ::ffff:198.18.0.1.
        locate: (socket) =>
          tcpOrigins.find(socket.remoteAddress?.includes('.') ? 4 : 6, socket.remotePort ?? 0),
        namesFor: (ip) => answered.namesFor(ip),
        firstBytesWaitMs: FIRST_BYTES_WAIT_MS,
      },
    });
    cleanups.unshift(() => entrances.close());
    const collector = new DenialCollector(bus);
    const learner = options.learn ? new Learner(bus, (line) => io.err(line)) : null;

    session.mark('proxy-ready');
    const result = await session.run({
      entrances,
      bus,
      client,
      compiled: () => policies.compiled,
      warn: (text) => io.err(`egress: ${text}\n`),
      published,
      origins,
      tcpOrigins,
      ingress: new IngressEvents({ bus, client, compiled: () => policies.compiled }),
    });
    collector.close();
    if (learner && options.learn) {
      learner.close();
      const file = resolve(options.learn);
      const output = renderLearned(learner.observations, {
        ...(loaded.learnBase ? { base: loaded.learnBase } : {}),
        command,
        extras: loaded.extras,
        file: options.learn,
      });
      writeLearned(file, output);
      io.err(learnReport(output.learned, options.learn));
    } else if (!options.quiet) io.err(renderSummary(collector.all, loaded.policy.name));
    return result.code;
  } catch (err) {
    session.abort();
    if (err instanceof SandboxError) throw new RuntimeFailure(err.message);
    throw err;
  } finally {
    session.mark('summary');
    for (const cleanup of cleanups) await Promise.resolve(cleanup()).catch(() => undefined);
    session.mark('cleaned-up');
    if (process.env.EGRESS_RUN_TIMING === '1')
      io.err(`egress: timings (ms since start) ${JSON.stringify(session.timings)}\n`);
  }
}
