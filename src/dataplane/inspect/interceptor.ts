/**
 * Inspect mode for CONNECT tunnels: egress ends the client's TLS with a leaf from the
 * workspace's CA, opens verified TLS to exactly the classified address, and relays HTTP/1.1
 * exchanges between the two with node:http on both sides, recording each one (redacted) as an
 * `inspect.exchange` event.
 *
 *   client ─TLS(leaf for the name)→ inner http server → http.request(TunnelAgent) ─TLS(verified)→ upstream
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { explain, type CompiledPolicy, type Decision } from '../../policy/index.js';
import type { ClientContext, EventDestination } from '../../protocol/audit-event.js';
import type { EventBus } from '../events/event-bus.js';
import { dialErrorFrom } from '../net/dial.js';
import type { ProxyContext, ProxyLimits } from '../proxy/context.js';
import { failureResponse, rawResponse } from '../proxy/deny-response.js';
import { frontingRefusal } from '../proxy/fronting.js';
import { endToEndHeaders } from '../proxy/headers.js';
import { refusalText, writeText } from '../proxy/respond.js';
import { ExchangeRecorder } from './capture.js';
import { CertificateAuthority, defaultStateDir } from './certificate-authority.js';
import { LeafCache } from './leaf-cache.js';
import {
  connectUpstreamTls,
  isCertificateError,
  TunnelAgent,
  upstreamTrust,
  type UpstreamTarget,
} from './upstream.js';

export interface InspectOptions {
  /** Where the per-workspace CAs live (default: $XDG_STATE_HOME/egress). */
  stateDir?: string;
  /** Extra CA files trusted for upstream certificates. */
  upstreamCa?: string[];
  leafCacheSize?: number;
}

export interface InterceptRequest {
  socket: Socket;
  /** Client bytes already read (the ClientHello). */
  pending: Buffer;
  /** The TCP connection to the classified address. */
  upstream: Socket;
  client: ClientContext;
  compiled: CompiledPolicy;
  decision: Decision;
  /** The name the leaf is made for and the upstream must prove: the SNI, else the CONNECT host. */
  name: string;
  port: number;
  address: string;
}

type UpstreamState = { ok: true } | { ok: false; reason: string; message: string };

interface Tunnel {
  request: InterceptRequest;
  agent: TunnelAgent;
  upstream: Promise<UpstreamState>;
  destination: EventDestination;
}

export class Interceptor {
  private readonly leaves = new Map<string, Promise<LeafCache>>();
  private readonly tunnels = new WeakMap<Socket, Tunnel>();
  private readonly server: Server;
  private trustContext: SecureContext | undefined;

  constructor(
    private readonly options: InspectOptions,
    private readonly ctx: {
      bus: EventBus;
      log: Logger;
      limits: ProxyLimits;
      proxy: () => ProxyContext;
    },
  ) {
    const { limits } = ctx;
    this.server = createServer({
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: 0,
      keepAliveTimeout: 5_000,
      insecureHTTPParser: false,
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.onRequest(req, res).catch((err: unknown) => {
        ctx.log.error({ err }, 'internal error in an inspected exchange');
        res.destroy();
      });
    });
    this.server.on('upgrade', (_req, socket: Socket) => {
      const text = failureResponse(
        501,
        'inspect_upgrade_unsupported',
        'egress inspect mode relays HTTP/1.1 exchanges only; protocol upgrades (WebSocket) are not relayed',
      );
      socket.end(rawResponse(text));
    });
    this.server.on('clientError', (_err, socket: Socket) => socket.destroy());
  }

  get stateDir(): string {
    return this.options.stateDir ?? defaultStateDir();
  }

  /** The leaf cache of a workspace's CA (opening or creating the CA on first use). */
  leafCache(workspace: string): Promise<LeafCache> {
    let cache = this.leaves.get(workspace);
    if (!cache) {
      cache = CertificateAuthority.open(this.stateDir, workspace).then(
        (ca) => new LeafCache(ca, this.options.leafCacheSize),
      );
      cache.catch(() => this.leaves.delete(workspace));
      this.leaves.set(workspace, cache);
    }
    return cache;
  }

  private get trust(): SecureContext {
    this.trustContext ??= upstreamTrust(this.options.upstreamCa ?? []);
    return this.trustContext;
  }

  /** Runs an inspected tunnel until the client goes away. */
  async intercept(request: InterceptRequest): Promise<void> {
    const { socket, upstream, client, decision } = request;
    const started = performance.now();
    let leaf: SecureContext;
    let target: UpstreamTarget;
    try {
      const cache = await this.leafCache(client.workspace ?? 'default');
      leaf = await cache.get(request.name);
      target = {
        address: request.address,
        port: request.port,
        name: request.name,
        trust: this.trust,
        timeoutMs: this.ctx.limits.idleTimeoutMs,
      };
    } catch (err) {
      this.ctx.log.error({ err }, 'inspection CA unavailable');
      this.failed(
        request,
        'inspect_unavailable',
        `the inspection CA is unavailable: ${(err as Error).message}`,
      );
      upstream.destroy();
      socket.destroy();
      return;
    }

    upstream.on('error', () => upstream.destroy());
    const upstreamTls = connectUpstreamTls(target, upstream);
    const upstreamState = new Promise<UpstreamState>((resolve) => {
      let settled = false;
      upstreamTls.once('secureConnect', () => {
        settled = true;
        resolve({ ok: true });
      });
      // `on`, not `once`: errors after the handshake belong to the request using the socket,
      // but an unheard 'error' would crash the process.
      upstreamTls.on('error', (err) => {
        if (settled) return;
        settled = true;
        const reason = isCertificateError(err)
          ? 'upstream_tls_invalid'
          : dialErrorFrom(err, request.name).code;
        const message = isCertificateError(err)
          ? `the certificate of ${request.name} is not trusted: ${err.message} (${(err as NodeJS.ErrnoException).code}); add its CA with --upstream-ca if it is yours`
          : `TLS to ${request.name} failed: ${err.message}`;
        this.failed(request, reason, message);
        resolve({ ok: false, reason, message });
      });
    });
    const agent = new TunnelAgent(target, upstreamTls);

    socket.unshift(request.pending);
    const tlsClient = new TLSSocket(socket, {
      isServer: true,
      secureContext: leaf,
      ALPNProtocols: ['http/1.1'],
    });
    const handshake = setTimeout(() => tlsClient.destroy(), this.ctx.limits.headersTimeoutMs);
    tlsClient.once('secure', () => clearTimeout(handshake));
    let secured = false;
    tlsClient.once('secure', () => (secured = true));
    let clientError: string | undefined;
    tlsClient.on(
      'error',
      (err: NodeJS.ErrnoException) => (clientError ??= err.code ?? err.message),
    );
    tlsClient.setTimeout(this.ctx.limits.idleTimeoutMs, () => tlsClient.destroy());
    this.tunnels.set(tlsClient, {
      request,
      agent,
      upstream: upstreamState,
      destination: {
        host: decision.destination.host,
        ip: request.address,
        port: request.port,
        transport: 'tcp',
        scheme: 'https',
      },
    });
    // Not socket.resume(): the TLS socket now reads the connection's handle itself.
    this.server.emit('connection', tlsClient);

    await new Promise<void>((resolve) => tlsClient.once('close', () => resolve()));
    clearTimeout(handshake);
    agent.destroy();
    upstreamTls.destroy();
    if (!secured && clientError)
      this.failed(
        request,
        'client_tls_error',
        `the client ended TLS with egress (${clientError}): it must trust the workspace's inspection CA (egress ca export)`,
      );
    this.ctx.bus.emitLater({
      type: 'request.closed',
      client,
      decision,
      bytesIn: socket.bytesWritten,
      bytesOut: socket.bytesRead,
      durationMs: Math.round(performance.now() - started),
      description: `Inspected tunnel to ${decision.destination.host}:${request.port} closed${clientError ? ` (${clientError})` : ''}.`,
    });
  }

  private failed(request: InterceptRequest, reason: string, message: string): void {
    this.ctx.bus.emitLater({
      type: 'request.failed',
      client: request.client,
      decision: request.decision,
      reason,
      description: `${explain(request.decision)} ${message}.`,
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const tunnel = this.tunnels.get(req.socket);
    if (!tunnel) {
      res.destroy();
      return;
    }
    const { request, destination } = tunnel;
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const authority = urlAuthority(request.name, request.port);
    const fronting = await frontingRefusal(
      this.ctx.proxy(),
      { ok: true, client: request.client, compiled: request.compiled },
      { host: request.name, port: request.port, transport: 'tcp', scheme: 'https', method, path },
      req.headers.host,
    );
    if (fronting) {
      writeText(res, refusalText(fronting, this.ctx.proxy().accessHint));
      return;
    }
    const state = await tunnel.upstream;
    if (!state.ok) {
      writeText(res, failureResponse(502, state.reason, state.message));
      return;
    }
    const recorder = new ExchangeRecorder(request.compiled.policy, {
      method,
      url: `https://${authority}${path}`,
      path,
      headers: req.headers,
    });
    const headers = endToEndHeaders(req.headers);
    headers.host = req.headers.host ?? authority;
    const upstream = httpRequest({
      agent: tunnel.agent,
      host: request.address,
      port: request.port,
      method,
      path,
      headers,
      setHost: false,
      timeout: this.ctx.limits.idleTimeoutMs,
    });
    const emit = (failure?: string) =>
      this.ctx.bus.emitLater(
        recorder.event(request.client, request.decision, destination, failure),
      );
    req.on('data', (chunk: Buffer) => recorder.request.add(chunk));
    req.pipe(upstream);
    upstream.on('timeout', () =>
      upstream.destroy(Object.assign(new Error('upstream idle timeout'), { code: 'ETIMEDOUT' })),
    );
    upstream.on('error', (err) => {
      const reason = isCertificateError(err)
        ? 'upstream_tls_invalid'
        : dialErrorFrom(err, authority).code;
      emit(reason);
      writeText(
        res,
        failureResponse(reason === 'upstream_timeout' ? 504 : 502, reason, err.message),
      );
    });
    upstream.on('response', (up) => {
      recorder.onResponse(up.statusCode ?? 502, up.headers);
      res.writeHead(up.statusCode ?? 502, up.statusMessage, endToEndHeaders(up.headers));
      up.on('data', (chunk: Buffer) => recorder.response.add(chunk));
      up.pipe(res);
      up.on('end', () => emit());
      up.on('error', () => res.destroy());
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  }

  close(): void {
    this.server.close();
  }
}

/** `host[:port]` as written in a URL or Host header (IPv6 in brackets, 443 left out). */
function urlAuthority(name: string, port: number): string {
  const host = name.includes(':') ? `[${name}]` : name;
  return port === 443 ? host : `${host}:${port}`;
}
