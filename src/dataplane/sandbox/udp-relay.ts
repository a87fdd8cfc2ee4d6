/**
 * The outside half of the UDP relay for Fly-style UDP allow rules. The bridge binds one UDP
 * socket per allowed destination inside the sandbox (nftables redirects that destination to
 * it) and hands it over; here each sender inside gets its own socket on the host, which sends
 * to exactly that destination and passes the replies back. conntrack undoes the redirect on
 * the way in, so the program sees the replies come from the address it wrote to.
 *
 * Each new flow is decided again (the policy could deny it by an earlier rule) and recorded
 * as request.allowed with transport udp. Flows idle for IDLE_MS are closed.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import type { CompiledPolicy } from '../../policy/index.js';
import { decide, explain } from '../../policy/index.js';
import type { EventBus } from '../events/event-bus.js';
import type { ClientContext } from '../events/event.js';
import type { UdpRelayTarget } from './protocol.js';

const IDLE_MS = 60_000;
const MAX_FLOWS_PER_TARGET = 256;

interface Flow {
  socket: UdpSocket;
  timer: NodeJS.Timeout;
}

export interface UdpRelayOptions {
  targets: readonly UdpRelayTarget[];
  compiled: () => CompiledPolicy;
  bus: EventBus;
  client: ClientContext;
}

export class UdpRelays {
  private readonly inner = new Map<number, UdpSocket>();
  private readonly flows = new Map<string, Flow>();

  constructor(private readonly options: UdpRelayOptions) {}

  get count(): number {
    return this.options.targets.length;
  }

  /** The relay socket the bridge bound for target `index`. */
  adopt(index: number, socket: UdpSocket): void {
    const target = this.options.targets[index];
    if (!target) {
      socket.close();
      return;
    }
    this.inner.set(index, socket);
    socket.on('error', () => {});
    socket.on('message', (message, from) => this.fromInside(index, target, socket, message, from));
  }

  close(): void {
    for (const flow of this.flows.values()) {
      clearTimeout(flow.timer);
      flow.socket.close();
    }
    this.flows.clear();
    for (const socket of this.inner.values()) socket.close();
    this.inner.clear();
  }

  private fromInside(
    index: number,
    target: UdpRelayTarget,
    inner: UdpSocket,
    message: Buffer,
    from: RemoteInfo,
  ): void {
    const key = `${index}|${from.address}|${from.port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      const opened = this.open(key, target, inner, from);
      if (!opened) return;
      flow = opened;
    }
    flow.timer.refresh();
    flow.socket.send(message, target.port, target.ip);
  }

  private open(
    key: string,
    target: UdpRelayTarget,
    inner: UdpSocket,
    from: RemoteInfo,
  ): Flow | null {
    const decision = decide(this.options.compiled(), {
      host: target.ip,
      port: target.port,
      transport: 'udp',
    });
    const destination = {
      host: target.ip,
      ip: target.ip,
      port: target.port,
      transport: 'udp' as const,
    };
    if (decision.verdict !== 'allow' || this.flows.size >= MAX_FLOWS_PER_TARGET * this.count) {
      void this.options.bus
        .emit({
          type: 'request.denied',
          client: this.options.client,
          decision,
          destination,
          description: explain(decision),
        })
        .catch(() => undefined);
      return null;
    }
    const socket = createSocket({ type: target.family === 6 ? 'udp6' : 'udp4' });
    socket.on('error', () => {});
    socket.on('message', (reply) => {
      flow.timer.refresh();
      inner.send(reply, from.port, from.address);
    });
    const flow: Flow = {
      socket,
      timer: setTimeout(() => {
        socket.close();
        this.flows.delete(key);
      }, IDLE_MS).unref(),
    };
    this.flows.set(key, flow);
    this.options.bus.emitLater({
      type: 'request.allowed',
      client: this.options.client,
      decision,
      destination,
      description: `${explain(decision)} (UDP, relayed)`,
    });
    return flow;
  }
}
