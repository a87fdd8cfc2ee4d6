/**
 * PolicyDnsServer: the policy-aware DNS forwarder (DESIGN.md 3.5) on one address, UDP and TCP
 * on the same port. Each question goes through DnsAnswerer; this class owns the sockets, the
 * TCP framing (two-byte lengths, several questions per connection, answered as they are ready),
 * the idle timeout, and the limits that keep a flood from taking the process down.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { EventBus } from '../events/event-bus.js';
import { closeServer, listenServer } from '../net/listen.js';
import type { PolicyProvider } from '../proxy/client-identity.js';
import type { DnsCache } from './dns-cache.js';
import { DnsAnswerer, type DnsAnswererOptions, type DnsStats } from './dns-answerer.js';
import type { DnsForwarder } from './dns-forwarder.js';
import { frame, readFrames } from './tcp-framing.js';

export interface PolicyDnsServerOptions {
  host: string;
  /** 0 picks a free port (the same one for UDP and TCP). */
  port: number;
  policies: PolicyProvider;
  forwarder: DnsForwarder;
  cache?: DnsCache | null;
  pins?: ReadonlyMap<string, readonly string[]>;
  bus: EventBus;
  log: Logger;
  /** Close TCP connections idle this long (ms). */
  tcpIdleTimeoutMs?: number;
  maxTcpConnections?: number;
  /** Questions being answered at once; more are dropped (UDP) or wait (TCP reads pause). */
  maxInFlight?: number;
  /**
   * Already bound sockets to serve instead of binding host:port (the sandbox bridge binds them
   * inside the sandbox's network namespace and hands them over).
   */
  sockets?: { udp: UdpSocket; tcp: Server };
  /** See DnsAnswererOptions.onAnswered. */
  onAnswered?: DnsAnswererOptions['onAnswered'];
}

export interface DnsAddress {
  host: string;
  port: number;
}

export interface DnsServerStats extends DnsStats {
  dropped: number;
  tcpConnections: number;
}

export class PolicyDnsServer {
  private readonly answerer: DnsAnswerer;
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly connections = new Set<Socket>();
  private inFlight = 0;
  private dropped = 0;

  constructor(private readonly options: PolicyDnsServerOptions) {
    this.answerer = new DnsAnswerer({
      policies: options.policies,
      forwarder: options.forwarder,
      cache: options.cache ?? null,
      bus: options.bus,
      log: options.log,
      ...(options.pins ? { pins: options.pins } : {}),
      ...(options.onAnswered ? { onAnswered: options.onAnswered } : {}),
    });
  }

  get stats(): DnsServerStats {
    return { ...this.answerer.stats, dropped: this.dropped, tcpConnections: this.connections.size };
  }

  async start(): Promise<DnsAddress> {
    if (this.options.sockets) return this.adopt(this.options.sockets);
    // With port 0 the UDP socket picks the port and TCP takes the same one; if another program
    // holds that TCP port, try again with a new one.
    for (let attempt = 0; ; attempt++) {
      const port = await this.bindUdp(this.options.port);
      try {
        await this.listenTcp(port);
        return { host: this.options.host, port };
      } catch (err) {
        await this.closeUdp();
        if (this.options.port !== 0 || attempt >= 5) throw err;
      }
    }
  }

  async close(): Promise<void> {
    await this.closeUdp();
    for (const socket of this.connections) socket.destroy();
    const tcp = this.tcp;
    this.tcp = null;
    if (tcp) await closeServer(tcp);
  }

  private get maxInFlight(): number {
    return this.options.maxInFlight ?? 1024;
  }

  private bindUdp(port: number): Promise<number> {
    const socket = createSocket({ type: isIPv6(this.options.host) ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.options.host, () => {
        socket.off('error', reject);
        this.serveUdp(socket);
        resolve(socket.address().port);
      });
    });
  }

  private serveUdp(socket: UdpSocket): void {
    socket.on('error', (err) => this.options.log.warn({ error: err.message }, 'DNS UDP error'));
    socket.on('message', (msg, rinfo) => this.onDatagram(socket, msg, rinfo.address, rinfo.port));
    this.udp = socket;
  }

  private adopt(sockets: { udp: UdpSocket; tcp: Server }): DnsAddress {
    this.serveUdp(sockets.udp);
    sockets.tcp.on('connection', (socket: Socket) => this.onConnection(socket));
    this.tcp = sockets.tcp;
    return { host: this.options.host, port: sockets.udp.address().port };
  }

  private closeUdp(): Promise<void> {
    const udp = this.udp;
    this.udp = null;
    if (!udp) return Promise.resolve();
    return new Promise((resolve) => udp.close(() => resolve()));
  }

  private onDatagram(socket: UdpSocket, msg: Buffer, address: string, port: number): void {
    if (this.inFlight >= this.maxInFlight) {
      this.dropped++;
      return;
    }
    this.inFlight++;
    this.answerer
      .answer(msg, address, 'udp')
      .then((response) => {
        if (response && this.udp === socket) socket.send(response, port, address);
      })
      .catch((err: unknown) =>
        this.options.log.error({ error: (err as Error).message }, 'DNS query failed'),
      )
      .finally(() => this.inFlight--);
  }

  private async listenTcp(port: number): Promise<void> {
    const server = createServer((socket) => this.onConnection(socket));
    await listenServer(server, port, this.options.host);
    this.tcp = server;
  }

  private onConnection(socket: Socket): void {
    if (this.connections.size >= (this.options.maxTcpConnections ?? 256)) {
      this.dropped++;
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    socket.setTimeout(this.options.tcpIdleTimeoutMs ?? 10_000, () => socket.destroy());
    const address = socket.remoteAddress ?? null;
    let pending = 0;
    readFrames(socket, (message) => {
      pending++;
      this.inFlight++;
      // Back-pressure: stop reading while this connection or the server is busy enough.
      if (pending >= 64 || this.inFlight >= this.maxInFlight) socket.pause();
      this.answerer
        .answer(Buffer.from(message), address, 'tcp')
        .then((response) => {
          if (response && !socket.destroyed) socket.write(frame(response));
        })
        .catch((err: unknown) =>
          this.options.log.error({ error: (err as Error).message }, 'DNS query failed'),
        )
        .finally(() => {
          pending--;
          this.inFlight--;
          if (socket.isPaused() && pending < 64 && this.inFlight < this.maxInFlight)
            socket.resume();
        });
    });
  }
}
