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
import { hostHeaderFronting } from '../../policy/engine/fronting.js';
import type { CompiledPolicy, Decision } from '../../policy/index.js';
import type { ClientContext, EventDestination, EventInput } from '../../protocol/audit-event.js';
import type { FailureCode, Refusal } from '../../protocol/refusals.js';
import type { RequestTarget } from '../decider/decider.js';
import type { ProxyLimits } from '../limits.js';
import { dialErrorFrom } from '../net/dial.js';
import { endToEndHeaders } from '../protocols/http-headers.js';
import { hostHeaderTarget, urlAuthority } from '../protocols/http-target.js';
import { rawResponse } from '../responses/deny-response.js';
import { failureText, refusalText, writeText } from '../responses/render.js';
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

/**
 * The request an inspected tunnel belongs to (a RequestFlow): its verdict is recorded; the
 * interceptor records its exchanges and how it ends through it.
 */
export interface InspectedFlow {
  readonly client: ClientContext;
  readonly compiled: CompiledPolicy | null;
  readonly decision: Decision | null;
  /** Records another event of the request (inspect.exchange) with the request's id. */
  record(input: EventInput): void;
  /** A failure the request ends with (request.failed instead of request.closed). */
  noteFailure(code: FailureCode, message: string): void;
  /** The request's last event; bytes in are towards the client. */
  end(bytesIn: number, bytesOut: number, status?: number, error?: string): void;
  /** A request inside the tunnel refused on its own (Host fronting), recorded as its own request. */
  refuseInside(target: RequestTarget, decision: Decision): Promise<Refusal>;
}

export interface InterceptRequest {
  socket: Socket;
  /** Client bytes already read (the ClientHello). */
  pending: Buffer;
  /** The TCP connection to the classified address. */
  upstream: Socket;
  flow: InspectedFlow;
  /** The name the leaf is made for and the upstream must prove: the SNI, else the CONNECT host. */
  name: string;
  port: number;
  address: string;
}

/** What the interceptor needs of the proxy it serves. */
export interface InterceptorDeps {
  log: Logger;
  limits: ProxyLimits;
  accessHint?: string;
}

type UpstreamState = { ok: true } | { ok: false; reason: FailureCode; message: string };

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
    private readonly ctx: InterceptorDeps,
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
      const text = failureText(
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
    const { socket, upstream, flow } = request;
    const client = flow.client;
    const decision = flow.decision!;
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
      flow.noteFailure(
        'inspect_unavailable',
        `the inspection CA is unavailable: ${(err as Error).message}`,
      );
      flow.end(-1, -1);
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
        const reason: FailureCode = isCertificateError(err)
          ? 'upstream_tls_invalid'
          : dialErrorFrom(err, request.name).code;
        const message = isCertificateError(err)
          ? `the certificate of ${request.name} is not trusted: ${err.message} (${(err as NodeJS.ErrnoException).code}); add its CA with --upstream-ca if it is yours`
          : `TLS to ${request.name} failed: ${err.message}`;
        flow.noteFailure(reason, message);
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
      flow.noteFailure(
        'client_tls_error',
        `the client ended TLS with egress (${clientError}): it must trust the workspace's inspection CA (egress ca export)`,
      );
    flow.end(socket.bytesWritten, socket.bytesRead, 0, clientError ?? '');
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const tunnel = this.tunnels.get(req.socket);
    if (!tunnel) {
      res.destroy();
      return;
    }
    const { request, destination } = tunnel;
    const { flow } = request;
    const compiled = flow.compiled!;
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const authority = urlAuthority(request.name, request.port, 443);
    if (req.headers.host !== undefined) {
      const inner: RequestTarget = {
        host: request.name,
        port: request.port,
        transport: 'tcp',
        scheme: 'https',
        method,
        path,
      };
      const header = hostHeaderTarget(req.headers.host, request.port);
      const fronted = hostHeaderFronting(compiled, inner, header);
      if (fronted && !fronted.allowed) {
        const refusal = await flow.refuseInside(inner, fronted);
        writeText(res, refusalText(refusal, this.ctx.accessHint));
        return;
      }
    }
    const state = await tunnel.upstream;
    if (!state.ok) {
      writeText(res, failureText(state.reason, state.message));
      return;
    }
    const recorder = new ExchangeRecorder(compiled.policy, {
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
      flow.record(recorder.event(flow.client, flow.decision!, destination, failure));
    req.on('data', (chunk: Buffer) => recorder.request.add(chunk));
    req.pipe(upstream);
    upstream.on('timeout', () =>
      upstream.destroy(Object.assign(new Error('upstream idle timeout'), { code: 'ETIMEDOUT' })),
    );
    upstream.on('error', (err) => {
      const reason: FailureCode = isCertificateError(err)
        ? 'upstream_tls_invalid'
        : dialErrorFrom(err, authority).code;
      emit(reason);
      writeText(res, failureText(reason, err.message));
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
