/**
 * The bridge's half of `--publish`: traffic arriving on a host socket (bound by `egress run`
 * and handed over) is delivered to a port on the sandbox's loopback, inside the namespaces.
 *
 * - TCP: each connection is joined to a connection to the port (127.0.0.1, else ::1).
 * - UDP: each sender (address, port) gets its own socket inside, connected to the port, so the
 *   server's replies come back to that sender only; a flow idle for IDLE_MS ends.
 *
 * Every connection or flow is reported (accepted, refused when nothing listens inside, closed
 * with byte counts) so that `egress run` records it as an ingress.* event: the bridge has no
 * event bus of its own. Runs in the bridge: node built-ins only.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, type Server, type Socket } from 'node:net';
import type { BridgeIngress } from '../protocol.js';

const IDLE_MS = 60_000;
const MAX_UDP_FLOWS = 256;
/** How often a sender is checked again while nothing listens (and refusals are said). */
const RETRY_MS = 1000;
/** A server may listen on IPv4 or IPv6 loopback only: tried in this order. */
const INNER = ['127.0.0.1', '::1'] as const;

/**
 * The loopback address a UDP server inside listens on for `port`, from /proc/net/udp{,6} (this
 * process is in the sandbox's network namespace): 127.0.0.1 for a socket on 127.0.0.1 or
 * 0.0.0.0, ::1 for one on ::1 or ::; null when nothing listens there.
 */
export function udpListenerAddress(port: number, read = readProcNet): '127.0.0.1' | '::1' | null {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const bound = (table: string, addresses: string[]) =>
    read(table)
      .split('\n')
      .some((line) => {
        const local = line.trim().split(/\s+/)[1] ?? '';
        return local.endsWith(suffix) && addresses.includes(local.slice(0, -suffix.length));
      });
  if (bound('udp', ['0100007F', '00000000'])) return '127.0.0.1';
  const any6 = '0'.repeat(32);
  if (bound('udp6', [any6, '00000000000000000000000001000000'])) return '::1';
  return null;
}

function readProcNet(table: string): string {
  try {
    return readFileSync(`/proc/net/${table}`, 'utf8');
  } catch {
    return '';
  }
}

/** What varies between the steps of one connection (the rest is fixed when it arrives). */
type Step = Pick<
  BridgeIngress,
  'phase' | 'inner' | 'reason' | 'bytesIn' | 'bytesOut' | 'durationMs'
>;
type Report = (step: Step) => void;

interface UdpFlow {
  /** Null when refused (or closed). */
  inner: UdpSocket | null;
  address: string;
  bytesIn: number;
  bytesOut: number;
  started: number;
  timer: NodeJS.Timeout;
  /** Finds the server and opens the socket inside; false while nothing listens. */
  tryOpen: () => boolean;
  close: () => void;
}

export class PublishRelay {
  private nextId = 1;
  private readonly open = new Set<() => void>();

  constructor(private readonly report: (message: BridgeIngress) => void) {}

  /** Ends every open connection and flow, reporting each as closed (the command ended). */
  closeAll(): void {
    for (const close of [...this.open]) close();
  }

  tcp(server: Server, port: number, hostPort: number): void {
    server.on('connection', (inbound: Socket) => this.tcpConnection(inbound, port, hostPort));
  }

  /** Joins one inbound connection to `port` inside. */
  tcpConnection(inbound: Socket, port: number, hostPort: number): void {
    const report = this.reporter('tcp', port, hostPort, {
      address: inbound.remoteAddress ?? '',
      port: inbound.remotePort ?? 0,
    });
    const started = performance.now();
    inbound.on('error', () => inbound.destroy());
    const attempt = (index: number): void => {
      const inner = connect({ host: INNER[index]!, port });
      inner.once('error', () => {
        if (index + 1 < INNER.length) return attempt(index + 1);
        report({ phase: 'refused', reason: 'nothing_listening' });
        inbound.destroy();
      });
      inner.once('connect', () => {
        report({ phase: 'accepted', inner: INNER[index]! });
        inner.removeAllListeners('error');
        inner.on('error', () => inner.destroy());
        // Reported once, when either side closes or the command ends (closeAll).
        let reported = false;
        const finish = () => {
          if (reported) return;
          reported = true;
          this.open.delete(finish);
          inbound.destroy();
          inner.destroy();
          report({
            phase: 'closed',
            inner: INNER[index]!,
            bytesIn: inbound.bytesRead,
            bytesOut: inner.bytesRead,
            durationMs: Math.round(performance.now() - started),
          });
        };
        this.open.add(finish);
        inbound.once('close', finish);
        inner.once('close', finish);
        inbound.pipe(inner).pipe(inbound);
        inbound.resume();
      });
    };
    attempt(0);
  }

  udp(outer: UdpSocket, port: number, hostPort: number): void {
    const flows = new Map<string, UdpFlow>();
    let limitReported = 0;
    outer.on('error', () => {});
    outer.on('message', (message, from) => {
      const key = `${from.address}|${from.port}`;
      let flow = flows.get(key);
      if (!flow) {
        if (flows.size >= MAX_UDP_FLOWS) {
          // No new state for senders over the limit; said at most once a second.
          if (Date.now() - limitReported < RETRY_MS) return;
          limitReported = Date.now();
          this.reporter('udp', port, hostPort, from)({ phase: 'refused', reason: 'flow_limit' });
          return;
        }
        flow = this.udpFlow(outer, port, hostPort, from, () => flows.delete(key));
        flows.set(key, flow);
      }
      flow.timer.refresh();
      if (!flow.inner && !flow.tryOpen()) return;
      flow.bytesIn += message.length;
      flow.inner!.send(message, port, flow.address);
    });
  }

  /**
   * A new sender. Which loopback address the server listens on is read from the kernel's
   * socket table: UDP has no handshake, and a refusal would only come back as ICMP after the
   * datagram. When nothing listens yet, the flow is refused once and checked again at most
   * every RETRY_MS while the sender keeps trying (a server that is still starting).
   */
  private udpFlow(
    outer: UdpSocket,
    port: number,
    hostPort: number,
    from: RemoteInfo,
    forget: () => void,
  ): UdpFlow {
    const report = this.reporter('udp', port, hostPort, from);
    let refusedAt = 0;
    const flow: UdpFlow = {
      inner: null,
      address: INNER[0],
      bytesIn: 0,
      bytesOut: 0,
      started: performance.now(),
      timer: setTimeout(() => flow.close(), IDLE_MS),
      tryOpen: () => {
        if (refusedAt && Date.now() - refusedAt < RETRY_MS) return false;
        const address = udpListenerAddress(port);
        if (!address) {
          if (!refusedAt) report({ phase: 'refused', reason: 'nothing_listening' });
          refusedAt = Date.now();
          return false;
        }
        const inner = createSocket({ type: address === '::1' ? 'udp6' : 'udp4' });
        inner.on('error', () => {});
        inner.on('message', (reply) => {
          flow.timer.refresh();
          flow.bytesOut += reply.length;
          outer.send(reply, from.port, from.address);
        });
        flow.inner = inner;
        flow.address = address;
        flow.started = performance.now();
        this.open.add(flow.close);
        report({ phase: 'accepted', inner: address });
        return true;
      },
      close: () => {
        clearTimeout(flow.timer);
        forget();
        if (!flow.inner) return;
        flow.inner.close();
        flow.inner = null;
        this.open.delete(flow.close);
        report({
          phase: 'closed',
          inner: flow.address,
          bytesIn: flow.bytesIn,
          bytesOut: flow.bytesOut,
          durationMs: Math.round(performance.now() - flow.started),
        });
      },
    };
    return flow;
  }

  private reporter(
    transport: 'tcp' | 'udp',
    port: number,
    hostPort: number,
    peer: { address: string; port: number },
  ): Report {
    const id = this.nextId++;
    return (step) =>
      this.report({
        type: 'ingress',
        id,
        transport,
        port,
        hostPort,
        peer: { address: peer.address, port: peer.port },
        ...step,
      });
  }
}
