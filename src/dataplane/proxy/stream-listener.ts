/**
 * A TCP listener for the proxy's non-HTTP entrances (a separate SOCKS5 port, transparent
 * ports): start()/close(), connection accounting and the connection limit. Each accepted
 * socket goes to `handle`; the proxy's gate does the judging.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { closeServer, listenServer } from '../net/listen.js';
import type { ProxyContext } from './context.js';

export type ConnectionHandler = (socket: Socket) => Promise<void>;

export interface StreamListenerOptions {
  host: string;
  port: number;
  /** Shown in logs: "socks5", "transparent". */
  kind: string;
}

/**
 * One accepted connection of a non-HTTP entrance: refused beyond the connection limit, tracked
 * in `sockets` until it closes, handed to `handle`; an internal error is logged and ends it.
 * (Also used for connections accepted on listeners the sandbox's bridge handed over.)
 */
export function serveAccepted(
  ctx: ProxyContext,
  sockets: Set<Socket>,
  kind: string,
  socket: Socket,
  handle: ConnectionHandler,
): void {
  if (sockets.size >= ctx.limits.maxConnections) {
    socket.destroy();
    return;
  }
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => socket.destroy());
  handle(socket).catch((err: unknown) => {
    ctx.log.error({ err, listener: kind }, 'internal error while handling a connection');
    socket.destroy();
  });
}

export class StreamListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private listening: AddressInfo | null = null;

  constructor(
    protected readonly ctx: ProxyContext,
    private readonly options: StreamListenerOptions,
    handle: ConnectionHandler,
  ) {
    // Half-open like node:http's sockets (CONNECT): a client may end its side and still read.
    this.server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) =>
      serveAccepted(ctx, this.sockets, options.kind, socket, handle),
    );
  }

  /** The bound address, or null before start() and after close(). */
  get address(): AddressInfo | null {
    return this.listening;
  }

  get connections(): number {
    return this.sockets.size;
  }

  async start(): Promise<AddressInfo> {
    this.listening = await listenServer(this.server, this.options.port, this.options.host);
    return this.listening;
  }

  /** Stops accepting; waits up to `drainMs` for open connections, then closes the rest. */
  async close(drainMs = 0): Promise<void> {
    if (!this.listening) return;
    const closed = closeServer(this.server);
    const deadline = Date.now() + drainMs;
    while (this.sockets.size > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.listening = null;
  }
}
