/**
 * EgressProxy: the HTTP forward proxy listener (absolute-form HTTP, CONNECT, upgrades, and
 * SOCKS5 on the same port) with its limits, as a class with start()/close(). Protocol work is in the handlers; this file wires
 * them to a node:http server and keeps the connection accounting.
 */
import { createServer, type Server } from 'node:http';
import { ForwardUpstream } from './forward-upstream.js';
import { ReadBufferPool } from '../net/upstream-reads.js';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { EventBus } from '../events/event-bus.js';
import type { ParentProxy } from '../net/parent-proxy.js';
import type { Resolver } from '../net/resolver.js';
import type { PolicyProvider } from './client-identity.js';
import { handleConnect, type ConnectRequest } from './connect-tunnel.js';
import { DEFAULT_LIMITS, type ProxyContext, type ProxyLimits } from './context.js';
import type { DeciderClient } from './decider-client.js';
import { failureResponse, rawResponse } from './deny-response.js';
import { Gate } from './gate.js';
import { handleForward } from './http-forward.js';
import { handleUpgrade } from './upgrade.js';
import {
  routeByFirstByte,
  takeHttpConnectionListener,
  type SocketHandler,
} from './protocol-sniffer.js';
import { handleSocks5 } from './socks5.js';
import type { StreamListener } from './stream-listener.js';
import { Interceptor, type InspectOptions } from '../inspect/interceptor.js';

export interface EgressProxyOptions {
  host: string;
  port: number;
  policies: PolicyProvider;
  resolver: Resolver;
  bus: EventBus;
  log: Logger;
  decider?: DeciderClient;
  limits?: Partial<ProxyLimits>;
  accessHint?: string;
  /** Inspect mode: CA state directory and extra upstream CAs. */
  inspect?: InspectOptions;
  parentProxy?: ParentProxy;
}

export class EgressProxy {
  private readonly server: Server;
  private readonly ctx: ProxyContext;
  private readonly sockets = new Set<Socket>();
  private accepted = 0;
  private listening: AddressInfo | null = null;
  private readonly attached: StreamListener[] = [];
  private selfCache: { bound: (AddressInfo | null)[]; set: ReadonlySet<string> } | null = null;

  constructor(private readonly options: EgressProxyOptions) {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const gate = new Gate({
      resolver: options.resolver,
      bus: options.bus,
      ...(options.decider ? { decider: options.decider } : {}),
      selfAddresses: () => this.selfAddresses(),
      parentProxy: options.parentProxy !== undefined,
    });
    this.ctx = {
      gate,
      policies: options.policies,
      bus: options.bus,
      limits,
      upstream: new ForwardUpstream(limits),
      readBuffers: new ReadBufferPool(),
      log: options.log,
      ...(options.accessHint ? { accessHint: options.accessHint } : {}),
      ...(options.parentProxy ? { parentProxy: options.parentProxy } : {}),
    };
    this.ctx.inspect = new Interceptor(options.inspect ?? {}, {
      bus: options.bus,
      log: options.log,
      limits,
      proxy: () => this.ctx,
    });
    this.server = createServer({
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      // How often node checks for slow heads; its 30 s default would let slowloris sit far
      // past headersTimeout.
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(1000, Math.floor(limits.headersTimeoutMs / 2)),
      ),
      requestTimeout: 0,
      keepAliveTimeout: 5_000,
      // Rejects Content-Length together with Transfer-Encoding and other ambiguities (smuggling).
      insecureHTTPParser: false,
    });
    const toHttp = takeHttpConnectionListener(this.server);
    this.server.on('connection', (socket: Socket) => this.onConnection(socket, toHttp));
    this.server.on('request', (req, res) => {
      handleForward(this.ctx, req, res).catch((err: unknown) =>
        this.internalError(err, () => res.destroy()),
      );
    });
    this.server.on('connect', (req, socket: Socket, head: Buffer) => {
      const request = { target: req.url, proxyAuthorization: req.headers['proxy-authorization'] };
      this.connect(socket, request, head);
    });
    this.server.on('upgrade', (req, socket: Socket, head: Buffer) => {
      handleUpgrade(this.ctx, req, socket, head).catch((err: unknown) =>
        this.internalError(err, () => socket.destroy()),
      );
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
      this.onClientError(err, socket),
    );
  }

  get address(): AddressInfo {
    if (!this.listening) throw new Error('the proxy is not listening');
    return this.listening;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** What the protocol handlers share (gate, policies, limits): for the other entrances. */
  get context(): ProxyContext {
    return this.ctx;
  }

  /**
   * Joins another entrance (a SOCKS5 or transparent listener built on this proxy's context):
   * its address is never a destination, and close() closes it too.
   */
  attach(listener: StreamListener): void {
    this.attached.push(listener);
  }

  /** Connections accepted since start (for the connections counter). */
  get acceptedConnections(): number {
    return this.accepted;
  }

  /**
   * Serves a connection accepted by another listener (the sandbox's loopback listener, handed
   * over by the bridge): the same sniffing, limits and handlers as the proxy's own port.
   */
  serve(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  async start(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = this.server.address() as AddressInfo;
    return this.listening;
  }

  /** Stops accepting; waits up to `drainMs` for open connections, then closes the rest. */
  async close(drainMs = 0): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const others = Promise.all(this.attached.map((l) => l.close(drainMs)));
    this.server.closeIdleConnections();
    if (drainMs > 0) {
      const deadline = Date.now() + drainMs;
      while (this.sockets.size > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
    }
    for (const socket of this.sockets) socket.destroy();
    await this.ctx.upstream.close();
    this.ctx.inspect?.close();
    await Promise.all([closed, others]);
    this.listening = null;
  }

  /**
   * ip:port pairs this proxy (and its attached entrances) listen on. Built again only when one
   * of the bound addresses changes (each is an object set once at listen time), not on every
   * admission.
   */
  private selfAddresses(): ReadonlySet<string> {
    const bound = [this.listening, ...this.attached.map((l) => l.address)];
    const cached = this.selfCache;
    if (
      cached &&
      cached.bound.length === bound.length &&
      cached.bound.every((b, i) => b === bound[i])
    )
      return cached.set;
    const set = new Set<string>();
    for (const listening of bound) {
      if (!listening) continue;
      const { address, port } = listening;
      set.add(`${address}:${port}`);
      if (address === '0.0.0.0' || address === '::')
        ['127.0.0.1', '::1'].forEach((a) => set.add(`${a}:${port}`));
    }
    this.selfCache = { bound, set };
    return set;
  }

  private onConnection(socket: Socket, toHttp: SocketHandler): void {
    if (this.sockets.size >= this.ctx.limits.maxConnections) {
      socket.end(
        rawResponse(
          failureResponse(
            503,
            'too_many_connections',
            `egress is at its limit of ${this.ctx.limits.maxConnections} connections; try again shortly`,
          ),
        ),
      );
      socket.destroySoon();
      return;
    }
    this.sockets.add(socket);
    this.accepted++;
    socket.on('close', () => this.sockets.delete(socket));
    routeByFirstByte(socket, this.ctx.limits.headersTimeoutMs, {
      http: toHttp,
      connect: (s, request, head) => this.connect(s, request, head),
      maxHeadBytes: this.ctx.limits.maxHeaderBytes,
      socks5: (s, head) =>
        handleSocks5(this.ctx, s, head).catch((err: unknown) =>
          this.internalError(err, () => s.destroy()),
        ),
    });
  }

  private connect(socket: Socket, request: ConnectRequest, head: Buffer): void {
    handleConnect(this.ctx, request, socket, head).catch((err: unknown) =>
      this.internalError(err, () => socket.destroy()),
    );
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const text = tooLarge
      ? failureResponse(
          431,
          'headers_too_large',
          `the request head is larger than ${this.ctx.limits.maxHeaderBytes} bytes`,
        )
      : timeout
        ? failureResponse(
            408,
            'headers_timeout',
            `the request head did not arrive within ${this.ctx.limits.headersTimeoutMs} ms`,
          )
        : failureResponse(
            400,
            'bad_request',
            `the request could not be parsed (${err.code ?? err.message})`,
          );
    socket.end(rawResponse(text));
  }

  private internalError(err: unknown, cleanup: () => void): void {
    this.options.log.error({ err }, 'internal error while handling a connection');
    cleanup();
  }
}
