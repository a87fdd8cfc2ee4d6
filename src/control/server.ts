/**
 * The control plane's HTTP server: the app from buildApp on a node:http listener. close() stops
 * accepting, lets requests in flight finish (up to `drainMs`), then closes what is left, so a
 * restart never cuts an acknowledged change in half.
 */
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ControlServerOptions {
  fetch: (request: Request, env: never) => Response | Promise<Response>;
  host: string;
  port: number;
  drainMs?: number;
}

export class ControlServer {
  private server: Server | undefined;
  private inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(private readonly options: ControlServerOptions) {}

  async start(): Promise<AddressInfo> {
    const fetch = this.options.fetch;
    const server = createAdaptorServer({
      fetch: async (request, env) => {
        this.inFlight++;
        try {
          return await fetch(request, env as never);
        } finally {
          if (--this.inFlight === 0) this.idle?.();
        }
      },
    }) as Server;
    // Slow or stuck clients must not hold sockets forever.
    server.headersTimeout = 30_000;
    server.requestTimeout = 120_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return server.address() as AddressInfo;
  }

  address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  /** The base URL clients use, e.g. http://127.0.0.1:8080. */
  url(): string {
    const a = this.address();
    if (!a) throw new Error('the control server is not listening');
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (this.inFlight > 0) {
      const drained = new Promise<void>((resolve) => (this.idle = resolve));
      const timeout = new Promise<void>((resolve) =>
        setTimeout(resolve, this.options.drainMs ?? 10_000).unref(),
      );
      await Promise.race([drained, timeout]);
    }
    server.closeAllConnections();
    await closed;
  }
}
