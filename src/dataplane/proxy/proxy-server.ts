/**
 * EgressProxy: the HTTP forward proxy listener (absolute-form HTTP, CONNECT, upgrades, and
 * SOCKS5 on the same port) with its limits, as a class with start()/close(). Protocol work is in the handlers; this file wires
 * them to a node:http server and keeps the connection accounting.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { FailureCode } from '../../protocol/refusals.js';
import type { DeciderClient } from '../decider/decider.js';
import type { EventBus } from '../events/event-bus.js';
import { Interceptor, type InspectOptions } from '../inspect/interceptor.js';
import { DEFAULT_LIMITS, type ProxyLimits } from '../limits.js';
import type { ParentProxy } from '../net/parent-proxy.js';
import type { Resolver } from '../net/resolver.js';
import { ReadBufferPool } from '../net/upstream-reads.js';
import { formatAuthority } from '../protocols/http-target.js';
import { rawResponse } from '../responses/deny-response.js';
import { failureText } from '../responses/render.js';
import type { PolicyProvider } from './client-identity.js';
import { handleConnect, type ConnectRequest } from './connect-tunnel.js';
import type { ProxyContext } from './context.js';
import { ForwardUpstream } from './forward-upstream.js';
import { Gate } from './gate.js';
import { handleForward } from './http-forward.js';
import {
  routeByFirstByte,
  takeHttpConnectionListener,
  type SocketHandler,
} from './protocol-sniffer.js';
import { Flows } from './request-flow.js';
import { handleSocks5 } from './socks5.js';
import type { StreamListener } from './stream-listener.js';
import { handleUpgrade } from './upgrade.js';

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
    const flows = new Flows({
      gate,
      policies: options.policies,
      bus: options.bus,
      limits,
      readBuffers: new ReadBufferPool(),
      ...(options.parentProxy ? { parentProxy: options.parentProxy } : {}),
      ...(options.accessHint ? { accessHint: options.accessHint } : {}),
    });
    // The interceptor gets what it uses, not the proxy: it records through each request's flow.
    flows.inspect = new Interceptor(options.inspect ?? {}, {
      log: options.log,
      limits,
      ...(options.accessHint ? { accessHint: options.accessHint } : {}),
    });
    this.ctx = {
      flows,
      bus: options.bus,
      limits,
      upstream: new ForwardUpstream(limits),
      log: options.log,
    };
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
    this.ctx.flows.inspect?.close();
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
      set.add(formatAuthority(address, port));
      if (address === '0.0.0.0' || address === '::')
        ['127.0.0.1', '::1'].forEach((a) => set.add(formatAuthority(a, port)));
    }
    this.selfCache = { bound, set };
    return set;
  }

  private onConnection(socket: Socket, toHttp: SocketHandler): void {
    if (this.sockets.size >= this.ctx.limits.maxConnections) {
      socket.end(
        rawResponse(
          failureText(
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
    const limits = this.ctx.limits;
    const [code, message]: [FailureCode, string] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? ['headers_too_large', `the request head is larger than ${limits.maxHeaderBytes} bytes`]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [
              'headers_timeout',
              `the request head did not arrive within ${limits.headersTimeoutMs} ms`,
            ]
          : ['bad_request', `the request could not be parsed (${err.code ?? err.message})`];
    const text = failureText(code, message);
    socket.end(rawResponse(text));
  }

  private internalError(err: unknown, cleanup: () => void): void {
    this.options.log.error({ err }, 'internal error while handling a connection');
    cleanup();
  }
}
