/**
 * The body of `egress run`: runs a command in a sandbox whose only way out is this process's
 * proxy and DNS (docs/sandbox.md). Resolves with the command's exit code (128 + n when a signal
 * ended it); prints what the policy denied, with the lines that would allow it. The CLI
 * (src/cli/commands/run-sandbox.ts) checks the flags and passes the parsed values; this throws
 * ConfigError (bad input: exit 2) or RuntimeFailure (exit 1).
 */
import { resolve } from 'node:path';
import { compilePolicy } from '../../../policy/index.js';
import { AuditLog } from '../../events/audit-log.js';
import { EventBus } from '../../events/event-bus.js';
import { createLogger, type LogLevel } from '../../log.js';
import { SystemResolver } from '../../net/resolver.js';
import { ListenerPolicy } from '../../proxy/client-identity.js';
import { EgressProxy } from '../../proxy/proxy-server.js';
import { CertificateAuthority } from '../../inspect/certificate-authority.js';
import type { Upstream } from '../../dns/dns-forwarder.js';
import { uuidv7 } from '../../../protocol/event-id.js';
import { SandboxEntrances } from './entrances.js';
import { hiddenPaths, RunFiles } from './run-files.js';
import { sandboxEnv, type TrustFiles } from './env.js';
import { SandboxError, SandboxSession } from './session.js';
import { DenialCollector, renderSummary } from '../report/summary.js';
import { checkPublish, listenPublished, type PublishSpec } from './publish.js';
import { planUdpRelays } from '../rules/relay-plan.js';
import { UdpRelay } from './udp-relay.js';
import { AnsweredNames } from '../../dns/answered-names.js';
import { OriginLookup } from './origins.js';
import { IngressEvents } from './ingress-events.js';
import { RemoteProxy, type RemoteProxyAddress } from './remote-proxy.js';
import type { SpawnedBridge } from './launcher.js';
import { writeTrustFiles } from './trust-bundle.js';
import { Learner, learnReport, renderLearned, writeLearned } from '../report/learner.js';
import type { Policy } from '../../../policy/model.js';
import { ConfigError, RuntimeFailure } from '../../errors.js';
import type { LoadedPolicy } from '../../sources/policy-file.js';

/**
 * How long the catch-all TCP entrance waits for a redirected connection's first bytes before
 * judging it by its address (server-first protocols such as SMTP or MySQL say nothing first;
 * a TLS or HTTP client speaks at once, and a late ClientHello is still checked).
 */
const FIRST_BYTES_WAIT_MS = 250;

/** The policy a run enforces; with --learn, `learnBase` is the one the learned policy extends. */
export type RunPolicy = LoadedPolicy & { learnBase?: Policy };

/** Where the run writes its human-readable lines (stderr in the CLI). */
export interface RunOutput {
  out(text: string): void;
  err(text: string): void;
}

/** What `egress run` checked and parsed, handed to the run. */
export interface RunSessionOptions {
  command: string[];
  /**
   * Reads the policy (throws PolicyError / ConfigError); called once the sandbox's bridge is
   * starting, so that a bad policy still stops the bridge cleanly.
   */
  loadPolicy: () => RunPolicy;
  pins: Map<string, string[]>;
  upstreams: Upstream[];
  publish: PublishSpec[];
  remote: RemoteProxyAddress | null;
  auditLog?: string;
  quiet?: boolean;
  workspace?: string;
  stateDir?: string;
  upstreamCa?: string[];
  logLevel?: LogLevel;
  /** Write the policy learned from what the command reached here (runs in monitor mode). */
  learn?: string;
}

export async function runSession(
  options: RunSessionOptions,
  io: RunOutput,
  early?: SpawnedBridge,
): Promise<number> {
  const { command, pins, upstreams, publish, remote } = options;
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
    const loaded = options.loadPolicy();
    const compiled = compilePolicy(loaded.policy, { ecosystemExtras: loaded.extras });
    try {
      for (const warning of checkPublish(publish, compiled)) io.err(`egress: ${warning}\n`);
    } catch (err) {
      throw new ConfigError((err as Error).message);
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
