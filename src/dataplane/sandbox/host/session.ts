/**
 * One `egress run`: the bridge in its namespaces, the adopted loopback listeners served by the
 * proxy and DNS, signal forwarding, and the end (dropped UDP recorded as udp.dropped events,
 * the command's exit status). The bridge is spawned first, in the constructor, so its start-up
 * overlaps with loading the policy and starting the proxy.
 *
 * Besides the run loop, the bridge's messages about traffic go straight to their consumer: the
 * UDP relay's original-destination answers (origin lookups), and steps of published inbound
 * connections (ingress events).
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';
import { constants } from 'node:os';
import type { CompiledPolicy } from '../../../policy/index.js';
import { decide } from '../../../policy/index.js';
import type { EventBus } from '../../events/event-bus.js';
import type { ClientContext } from '../../../protocol/audit-event.js';
import {
  BridgeProcess,
  userNamespaceBlocker,
  USERNS_HINT,
  type SpawnedBridge,
} from './launcher.js';
import type { SandboxEntrances } from './entrances.js';
import type { IngressEvents } from './ingress-events.js';
import type { OriginLookup } from './origins.js';
import type {
  BridgeConfig,
  BridgeExit,
  BridgeOriginRequest,
  DroppedUdp,
  FromBridge,
  ListenerRole,
} from '../protocol.js';
import { forwardSignals, signalExitCode } from './signals.js';

export class SandboxError extends Error {
  override name = 'SandboxError';
}

export interface SessionWiring {
  entrances: SandboxEntrances;
  bus: EventBus;
  client: ClientContext;
  compiled: () => CompiledPolicy;
  /** One line per setup warning (stderr). */
  warn: (text: string) => void;
  /** Host sockets for --publish, handed to the bridge (which relays into the sandbox). */
  published?: Array<{
    port: number;
    hostPort: number;
    transport: 'tcp' | 'udp';
    server: Server | UdpSocket;
    /** TCP connections the host side accepted before the hand-over (publish.ts). */
    early?: Socket[];
  }>;
  /** Where the UDP relay's lookups are answered. */
  origins?: OriginLookup;
  /** Where the catch-all TCP entrance's lookups are answered. */
  tcpOrigins?: OriginLookup;
  /** Records the published connections the bridge reports. */
  ingress?: IngressEvents;
}

export interface SessionResult {
  /** The command's exit code (128 + n when killed by signal n; 127 when it could not start). */
  code: number;
  redirect: boolean;
}

type Waiter = (message: FromBridge | { type: 'gone'; code: number | null }) => void;

export class SandboxSession {
  private readonly bridge: BridgeProcess;
  private readonly queue: Array<FromBridge | { type: 'gone'; code: number | null }> = [];
  private waiter: Waiter | null = null;
  private wiring: SessionWiring | null = null;
  private readonly earlyListeners: Array<[ListenerRole, unknown]> = [];
  /** Milliseconds since this process started, per phase (EGRESS_RUN_TIMING=1 prints them). */
  readonly timings: Record<string, number> = {};

  /** `early`: the bridge bin/egress spawned before loading the CLI (else spawned here). */
  constructor(early?: SpawnedBridge) {
    const blocker = userNamespaceBlocker();
    if (blocker) {
      early?.child.kill('SIGKILL');
      throw new SandboxError(`${blocker}. ${USERNS_HINT}`);
    }
    this.mark('cli-loaded');
    this.bridge = new BridgeProcess((message, handle) => this.onMessage(message, handle), early);
    void this.bridge.exited.then(({ code }) => this.push({ type: 'gone', code }));
  }

  /** Nothing will run (bad policy, failed start): take the namespaces down. */
  abort(): void {
    this.bridge.kill();
  }

  /**
   * Sends the bridge its configuration, so it sets up the namespaces while this process builds
   * the proxy and the rest of the wiring (before run()).
   */
  configure(config: Omit<BridgeConfig, 'type'>): void {
    this.bridge.send({ type: 'config', ...config });
    this.mark('config-sent');
  }

  /** Runs the command (configure() first); resolves when it has ended. */
  async run(wiring: SessionWiring): Promise<SessionResult> {
    this.wiring = wiring;
    // Listeners the bridge handed over before the wiring existed.
    for (const [role, handle] of this.earlyListeners.splice(0))
      wiring.entrances.adopt(role, handle);
    const ready = await this.next();
    if (ready.type === 'failed')
      throw new SandboxError(`the sandbox could not start: ${ready.message}`);
    if (ready.type !== 'ready')
      throw new SandboxError(
        this.bridge.spawnError ?? `the sandbox could not start. ${USERNS_HINT}`,
      );
    this.mark('bridge-ready');
    for (const warning of ready.warnings) wiring.warn(warning);
    await wiring.entrances.start();
    for (const { port, hostPort, transport, server, early } of wiring.published ?? []) {
      await this.bridge.sendHandle({ type: 'publish', port, hostPort, transport }, server);
      server.close(); // the bridge serves its copy now
      for (const socket of early ?? [])
        await this.bridge.sendHandle({ type: 'publish-connection', port, hostPort }, socket);
    }
    this.mark('command-start');
    const stopForwarding = forwardSignals((signal) => this.bridge.send({ type: 'signal', signal }));
    this.bridge.send({ type: 'start' });
    try {
      for (;;) {
        const message = await this.next();
        if (message.type === 'udp') await this.recordUdp(message.dropped);
        else if (message.type === 'exit') {
          this.mark('command-exit');
          await this.recordUdp(message.dropped);
          return { code: this.exitCode(message), redirect: ready.redirect };
        } else if (message.type === 'gone')
          throw new SandboxError('the sandbox ended unexpectedly (its bridge process died)');
      }
    } finally {
      stopForwarding();
    }
  }

  /** An origin lookup for the bridge (answered through wiring.origins or tcpOrigins). */
  askOrigins(request: BridgeOriginRequest): void {
    this.bridge.send(request);
  }

  mark(phase: string): void {
    this.timings[phase] = Math.round(performance.now());
  }

  private exitCode(exit: BridgeExit): number {
    if (exit.spawnError) {
      this.wiring?.warn(`cannot run the command: ${exit.spawnError}`);
      return 127;
    }
    if (exit.signal) return signalExitCode(exit.signal, constants.signals);
    return exit.code ?? 1;
  }

  /** udp.dropped events, one per destination (packet counts are cumulative). */
  private async recordUdp(dropped: DroppedUdp[]): Promise<void> {
    const wiring = this.wiring;
    if (!wiring) return;
    for (const d of dropped) {
      const decision = decide(wiring.compiled(), { host: d.ip, port: d.port, transport: 'udp' });
      const allowed = decision.verdict === 'allow';
      await wiring.bus
        .emit({
          type: 'udp.dropped',
          client: wiring.client,
          decision,
          destination: { host: d.ip, ip: d.ip, port: d.port, transport: 'udp' },
          severity: 'warning',
          ...(allowed ? { reason: 'udp_not_relayed' } : {}),
          description: `UDP to ${d.ip}:${d.port} was dropped (${d.packets} packet${d.packets === 1 ? '' : 's'}): the sandbox lets out only DNS and the UDP that allow rules name${allowed ? ' (a rule allows this address, but the relay was not set up for it when the sandbox started)' : ''}.`,
          extra: { packets: d.packets },
        })
        .catch(() => undefined);
    }
  }

  private onMessage(message: FromBridge, handle: unknown): void {
    if (message.type === 'listener') {
      if (this.wiring) this.wiring.entrances.adopt(message, handle);
      else this.earlyListeners.push([message, handle]);
    } else if (message.type === 'origins') {
      this.wiring?.origins?.answer(message);
      this.wiring?.tcpOrigins?.answer(message);
    } else if (message.type === 'ingress') this.wiring?.ingress?.record(message);
    else this.push(message);
  }

  private push(message: FromBridge | { type: 'gone'; code: number | null }): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(message);
    } else this.queue.push(message);
  }

  private next(): Promise<FromBridge | { type: 'gone'; code: number | null }> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}
