/**
 * The outer side of the sandbox's loopback: the listening sockets the bridge bound inside the
 * network namespace, adopted here and served by the ordinary entrances — the proxy (HTTP,
 * CONNECT, SOCKS5), the transparent handler (redirected TCP, named by SNI or Host) and the
 * policy-aware DNS server. One process, one gate, one event bus: the sandbox adds no relay.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { Answer } from 'dns-packet';
import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { EventBus } from '../../events/event-bus.js';
import type { PolicyProvider } from '../../proxy/client-identity.js';
import type { EgressProxy } from '../../proxy/proxy-server.js';
import { serveAccepted } from '../../proxy/stream-listener.js';
import { handleTransparent, type OriginalDestination } from '../../proxy/transparent.js';
import { DnsCache } from '../../dns/dns-cache.js';
import { DnsForwarder, type Upstream } from '../../dns/dns-forwarder.js';
import { PolicyDnsServer } from '../../dns/dns-server.js';
import type { ListenerRole } from '../protocol.js';
import type { UdpRelay } from './udp-relay.js';
import type { RemoteProxy } from './remote-proxy.js';

export interface SandboxEntrancesOptions {
  /** The proxy started for this run; or `remote`, a running `egress proxy` (--proxy). */
  proxy?: EgressProxy;
  remote?: RemoteProxy;
  policies: PolicyProvider;
  upstreams: Upstream[];
  pins: ReadonlyMap<string, readonly string[]>;
  bus: EventBus;
  log: Logger;
  /** The relay for UDP the policy allows (its sockets are handed over like the listeners). */
  udpRelay?: UdpRelay;
  /**
   * For the catch-all TCP entrance (ports other than 80 and 443): where each connection was
   * going (from nftables) and the names the sandbox's DNS gave for that address.
   */
  original?: OriginalDestination;
  /** Told the answers the sandbox's DNS gives (the UDP relay decides flows by those names). */
  onDnsAnswered?: (name: string, answers: readonly Answer[]) => void;
}

export class SandboxEntrances {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private dnsUdp: UdpSocket | null = null;
  private dnsTcp: Server | null = null;
  private dns: PolicyDnsServer | null = null;

  constructor(private readonly options: SandboxEntrancesOptions) {}

  /** Takes one listener the bridge handed over. */
  adopt(role: ListenerRole, handle: unknown): void {
    if (role.role === 'udp-relay') this.options.udpRelay?.adopt(role.family, handle as UdpSocket);
    else if (role.role === 'dns-udp') this.dnsUdp = handle as UdpSocket;
    else if (role.role === 'dns-tcp') this.dnsTcp = handle as Server;
    else {
      const server = handle as Server & { allowHalfOpen: boolean; noDelay: boolean };
      // As the proxy's own listeners: a client may end its side and still read the answer.
      server.allowHalfOpen = true;
      server.noDelay = true;
      this.servers.push(server);
      const { proxy, remote } = this.options;
      const serve = remote
        ? role.role === 'proxy'
          ? (socket: Socket) => remote.serve(socket)
          : (socket: Socket) => void remote.transparent(socket, role.originalPort)
        : role.role === 'proxy'
          ? (socket: Socket) => proxy!.serve(socket)
          : (socket: Socket) => this.transparent(socket, role.originalPort);
      server.on('connection', serve);
    }
  }

  /** Starts DNS on the adopted sockets; true when every listener has arrived. */
  async start(): Promise<void> {
    if (!this.dnsUdp || !this.dnsTcp || this.servers.length < 4)
      throw new Error('the sandbox bridge did not hand over all of its listeners');
    this.dns = new PolicyDnsServer({
      host: '127.0.0.1',
      port: 53,
      policies: this.options.policies,
      forwarder: new DnsForwarder({ upstreams: this.options.upstreams }),
      cache: new DnsCache(),
      pins: this.options.pins,
      bus: this.options.bus,
      log: this.options.log,
      sockets: { udp: this.dnsUdp, tcp: this.dnsTcp },
      ...(this.options.onDnsAnswered ? { onAnswered: this.options.onDnsAnswered } : {}),
    });
    await this.dns.start();
  }

  async close(): Promise<void> {
    for (const server of this.servers) server.close();
    for (const socket of this.sockets) socket.destroy();
    this.options.udpRelay?.close();
    this.options.remote?.close();
    await this.dns?.close();
  }

  private transparent(socket: Socket, originalPort: number | undefined): void {
    const ctx = this.options.proxy!.context;
    const original = originalPort === undefined ? this.options.original : undefined;
    serveAccepted(ctx, this.sockets, 'transparent', socket, (s) =>
      handleTransparent(ctx, s, originalPort, original),
    );
  }
}
