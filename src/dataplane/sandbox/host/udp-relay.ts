/**
 * The outside half of the UDP relay for Fly-style UDP allow rules. nftables inside the sandbox
 * redirects the UDP that allow rules may allow to one relay socket per family (bound by the
 * bridge, handed over here) and records each datagram's original destination under its source
 * port. For each new flow (source port) the relay reads that back (OriginLookup), decides it
 * with the policy (decideObservedAddress) and, if allowed, sends from a socket of its own on the host
 * to exactly that destination, passing the replies back. conntrack undoes the redirect on the
 * way in, so the program sees the replies come from the address it wrote to.
 *
 * Each new flow is one event: request.allowed (transport udp), or udp.dropped with the rule or
 * default that denied it; an allowed flow ends with request.closed and its byte counts. Flows
 * idle for IDLE_MS end. Fail closed: an original destination that cannot be read back, an
 * audit log that cannot be written, or too many flows drop the datagrams (and say so).
 * In monitor mode, what the policy would deny is dropped too: the sandbox lets out only the
 * UDP a policy explicitly allows (DESIGN.md 3.5).
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import type { CompiledPolicy, Decision } from '../../../policy/index.js';
import { decideObservedAddress, explain } from '../../../policy/index.js';
import type { EventBus } from '../../events/event-bus.js';
import type { ClientContext, EventDestination } from '../../../protocol/audit-event.js';
import { ORIGIN_TIMEOUT_S } from '../rules/netns-rules.js';
import type { OriginLookup } from './origins.js';
import { SANDBOX_SOURCE_V4, SANDBOX_SOURCE_V6 } from '../protocol.js';

/**
 * Not longer than the nft map entries live: a flow must end before conntrack can give its
 * source port to a flow to another destination (see ORIGIN_TIMEOUT_S).
 */
const IDLE_MS = ORIGIN_TIMEOUT_S * 1000;
const MAX_FLOWS = 1024;
/** Datagrams of a new flow kept while its destination is looked up. */
const MAX_WAITING = 16;

interface Flow {
  state: 'looking-up' | 'open' | 'dropped';
  waiting: Buffer[];
  socket: UdpSocket | null;
  decision: Decision | null;
  destination: EventDestination | null;
  bytesIn: number;
  bytesOut: number;
  started: number;
  timer: NodeJS.Timeout;
}

export interface UdpRelayOptions {
  /**
   * The names a flow to this address is decided by: exact host names of UDP rules that resolved
   * to it at start, and names the sandbox's DNS answered with it (answered-names.ts).
   */
  namesFor: (address: string) => readonly string[];
  compiled: () => CompiledPolicy;
  bus: EventBus;
  client: ClientContext;
  lookup: OriginLookup;
}

export class UdpRelay {
  private readonly inner = new Set<UdpSocket>();
  private readonly flows = new Map<string, Flow>();
  /** Dropped datagrams per destination, for the packet counts of udp.dropped events. */
  private readonly droppedPackets = new Map<string, number>();

  constructor(private readonly options: UdpRelayOptions) {}

  /** The relay socket the bridge bound for one family. */
  adopt(family: 4 | 6, socket: UdpSocket): void {
    this.inner.add(socket);
    socket.on('error', () => {});
    socket.on('message', (message, from) => this.fromInside(family, socket, message, from));
  }

  close(): void {
    for (const key of [...this.flows.keys()]) this.end(key);
    for (const socket of this.inner) socket.close();
    this.inner.clear();
  }

  private fromInside(family: 4 | 6, inner: UdpSocket, message: Buffer, from: RemoteInfo): void {
    const key = `${from.address}|${from.port}`;
    const flow = this.flows.get(key);
    if (flow) {
      flow.timer.refresh();
      if (flow.state === 'open') {
        flow.bytesOut += message.length;
        flow.socket!.send(message, flow.destination!.port, flow.destination!.ip);
      } else if (flow.state === 'looking-up' && flow.waiting.length < MAX_WAITING)
        flow.waiting.push(message);
      else if (flow.state === 'dropped') this.countDrop(flow.destination);
      return;
    }
    if (this.flows.size >= MAX_FLOWS) {
      this.recordUnknown(from, 'udp_flow_limit', `more than ${MAX_FLOWS} UDP flows are open`);
      return;
    }
    const started: Flow = {
      state: 'looking-up',
      waiting: [message],
      socket: null,
      decision: null,
      destination: null,
      bytesIn: 0,
      bytesOut: 0,
      started: performance.now(),
      timer: setTimeout(() => this.end(key), IDLE_MS).unref(),
    };
    this.flows.set(key, started);
    // Only datagrams nft redirected carry the sandbox's source address (rules/netns-rules.ts); one
    // written straight to the relay port has no original destination to look up.
    const self = family === 4 ? SANDBOX_SOURCE_V4 : SANDBOX_SOURCE_V6;
    const origin =
      from.address === self ? this.options.lookup.find(family, from.port) : Promise.resolve(null);
    void origin.then((found) => {
      if (this.flows.get(key) !== started) return;
      if (!found) {
        this.recordUnknown(
          from,
          'udp_origin_unknown',
          'its original destination could not be read back from nftables',
        );
        started.state = 'dropped';
        started.waiting = [];
        return;
      }
      this.decide(started, inner, from, found.ip, found.port);
    });
  }

  private decide(flow: Flow, inner: UdpSocket, from: RemoteInfo, ip: string, port: number): void {
    const names = this.options.namesFor(ip);
    const decision = decideObservedAddress(this.options.compiled(), names, ip, port, 'udp');
    const host = decision.destination.host;
    flow.decision = decision;
    flow.destination = { host, ip, port, transport: 'udp' };
    const waiting = flow.waiting;
    flow.waiting = [];
    if (decision.verdict !== 'allow' || !this.options.bus.healthy) {
      flow.state = 'dropped';
      for (let i = 0; i < waiting.length; i++) this.countDrop(flow.destination);
      this.recordDenied(flow, decision);
      return;
    }
    const socket = createSocket({ type: ip.includes(':') ? 'udp6' : 'udp4' });
    socket.on('error', () => {});
    socket.on('message', (reply) => {
      flow.timer.refresh();
      flow.bytesIn += reply.length;
      inner.send(reply, from.port, from.address);
    });
    flow.socket = socket;
    flow.state = 'open';
    this.options.bus.emitLater({
      type: 'request.allowed',
      client: this.options.client,
      decision,
      destination: flow.destination,
      description: `${explain(decision)} (UDP, relayed)`,
    });
    for (const message of waiting) {
      flow.bytesOut += message.length;
      socket.send(message, port, ip);
    }
  }

  private end(key: string): void {
    const flow = this.flows.get(key);
    if (!flow) return;
    this.flows.delete(key);
    clearTimeout(flow.timer);
    if (!flow.socket) return;
    flow.socket.close();
    const d = flow.destination!;
    this.options.bus.emitLater({
      type: 'request.closed',
      client: this.options.client,
      decision: flow.decision!,
      destination: d,
      bytesIn: flow.bytesIn,
      bytesOut: flow.bytesOut,
      durationMs: Math.round(performance.now() - flow.started),
      description: `UDP flow to ${d.ip!.includes(':') ? `[${d.ip}]` : d.ip}:${d.port} closed.`,
    });
  }

  /** Counts one dropped datagram for `destination` (events carry running totals). */
  private countDrop(destination: EventDestination | null): void {
    if (!destination) return;
    const key = `${destination.ip}|${destination.port}`;
    this.droppedPackets.set(key, (this.droppedPackets.get(key) ?? 0) + 1);
  }

  private recordDenied(flow: Flow, decision: Decision): void {
    const d = flow.destination!;
    const packets = this.droppedPackets.get(`${d.ip}|${d.port}`) ?? 1;
    const why =
      decision.verdict !== 'allow'
        ? explain(decision)
        : 'the audit log cannot be written, so nothing is let through';
    const monitor = decision.wouldDeny ? ' Monitor mode does not relay it either.' : '';
    void this.options.bus
      .emit({
        type: 'udp.dropped',
        client: this.options.client,
        decision,
        destination: d,
        severity: 'warning',
        ...(decision.verdict === 'allow' ? { reason: 'audit_unavailable' } : {}),
        description: `UDP flow dropped by the relay: ${why}${monitor}`,
        extra: { packets },
      })
      .catch(() => undefined);
  }

  private recordUnknown(from: RemoteInfo, reason: string, why: string): void {
    void this.options.bus
      .emit({
        type: 'udp.dropped',
        client: this.options.client,
        destination: null,
        severity: 'warning',
        reason,
        description: `A UDP datagram from the sandbox (source port ${from.port}) was dropped by the relay: ${why} (fail closed).`,
      })
      .catch(() => undefined);
  }
}
