/**
 * The admin listener (`--admin-listen`): `/metrics` (Prometheus text) and `/healthz` (200 with
 * `{status, policies, audit}` while healthy, 503 once the audit log failed, because the proxy
 * then refuses all traffic). Bind it to an address only operators reach.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { closeServer, listenServer } from '../net/listen.js';

/** Something that renders Prometheus text: one proxy's metrics, or several workers' summed. */
export interface MetricsText {
  text(): Promise<string>;
  readonly contentType: string;
}

export type AuditStatus = 'ok' | 'failed' | 'disabled';

export interface AdminServerOptions {
  host: string;
  port: number;
  metrics: MetricsText;
  /** Workspaces and their policy names. */
  policies: () => Array<{ workspace: string; policy: string }>;
  /** 'ok', 'failed', or 'disabled' when no audit log is configured. */
  audit: () => AuditStatus | Promise<AuditStatus>;
  log?: Logger;
}

export class AdminServer {
  private readonly server: Server;
  private listening: AddressInfo | null = null;

  constructor(private readonly options: AdminServerOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        options.log?.error({ err }, 'admin request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
  }

  get address(): AddressInfo {
    if (!this.listening) throw new Error('the admin server is not listening');
    return this.listening;
  }

  async start(): Promise<AddressInfo> {
    this.listening = await listenServer(this.server, this.options.port, this.options.host);
    return this.listening;
  }

  async close(): Promise<void> {
    if (!this.listening) return;
    const closed = closeServer(this.server);
    this.server.closeAllConnections();
    await closed;
    this.listening = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('only GET and HEAD\n');
      return;
    }
    if (path === '/metrics') {
      const text = await this.options.metrics.text();
      res.writeHead(200, { 'content-type': this.options.metrics.contentType });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (path === '/healthz') {
      const audit = await this.options.audit();
      const healthy = audit !== 'failed';
      const body = JSON.stringify({
        status: healthy ? 'ok' : 'audit_unavailable',
        policies: this.options.policies(),
        audit,
      });
      res.writeHead(healthy ? 200 : 503, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : `${body}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: try /metrics or /healthz\n');
  }
}
