/**
 * The end of the request path shared by CONNECT, SOCKS5 and transparent mode: dial exactly the
 * admitted address, then (for proxy tunnels, and redirected ones admitted by address) peek the
 * client's first bytes and refuse a TLS ClientHello, or an HTTP Host, naming what the policy
 * would not allow (domain fronting), then join the two sockets and record how the tunnel ended.
 */
import type { Socket } from 'node:net';
import { explain } from '../../policy/engine/explain.js';
import type { CompiledPolicy, Decision } from '../../policy/index.js';
import { normaliseHost } from '../../policy/normalise/host.js';
import type { ClientContext } from '../../protocol/audit-event.js';
import { ByteReader } from '../net/byte-reader.js';
import { dial, DialError } from '../net/dial.js';
import { connectThroughParent } from '../net/parent-proxy.js';
import {
  MAX_CLIENT_HELLO_BYTES,
  parseClientHello,
  TLS_ACCESS_DENIED_ALERT,
} from '../protocols/tls-client-hello.js';
import type { ProxyContext } from './context.js';
import { hostRefusal, sniRefusal } from './fronting.js';
import { destinationSettled } from '../protocols/first-bytes.js';
import { parseHttpHead } from '../protocols/http-head.js';
import { refusalText, writeRaw } from './respond.js';
import type { Admission, GateTarget } from './gate.js';
import { runTunnel } from './tunnel.js';

export interface AdmittedTunnel {
  client: ClientContext;
  compiled: CompiledPolicy | null;
  target: GateTarget;
  /** The gate's allowing decision (with the classified address). */
  decision: Decision;
  socket: Socket;
  /** When the client's request arrived (performance.now()), for durationMs. */
  started: number;
}

/** Dials the admitted address; on failure records request.failed and returns the DialError. */
async function dialAdmitted(
  ctx: ProxyContext,
  tunnel: Omit<AdmittedTunnel, 'socket' | 'started'>,
  address: string,
  viaParent = false,
): Promise<Socket | DialError> {
  try {
    // Parent-proxy destinations (SDS custom endpoints) are named, not resolved: the parent dials.
    if (viaParent && ctx.parentProxy) {
      return await connectThroughParent(
        ctx.parentProxy,
        address,
        tunnel.target.port,
        ctx.limits.connectTimeoutMs,
      );
    }
    // Inspect mode terminates TLS on this socket; every other tunnel only relays its bytes.
    return await dial(
      address,
      tunnel.target.port,
      ctx.limits.connectTimeoutMs,
      tunnel.decision.mode === 'inspect' ? {} : { readBuffers: ctx.readBuffers },
    );
  } catch (err) {
    const failure = err instanceof DialError ? err : new DialError('upstream_error', String(err));
    ctx.bus.emitLater({
      type: 'request.failed',
      client: tunnel.client,
      decision: tunnel.decision,
      reason: failure.code,
      description: `${explain(tunnel.decision)} ${failure.message}.`,
    });
    return failure;
  }
}

/**
 * The shared step after an allowing admission (CONNECT, SOCKS5, transparent): the tunnel's facts
 * and a connection to exactly the admitted address (or through the parent proxy).
 */
export async function openAdmittedTunnel(
  ctx: ProxyContext,
  facts: Omit<AdmittedTunnel, 'decision'>,
  admission: Extract<Admission, { ok: true }>,
): Promise<{ tunnel: AdmittedTunnel; upstream: Socket } | DialError> {
  const tunnel: AdmittedTunnel = { ...facts, decision: admission.decision };
  const upstream = await dialAdmitted(ctx, tunnel, admission.address, admission.viaParent === true);
  return upstream instanceof DialError ? upstream : { tunnel, upstream };
}

/**
 * The client has been told the tunnel is open. Waits for its first bytes (letting a
 * server-first protocol such as SSH speak meanwhile); a ClientHello naming a server the policy
 * would not allow gets a TLS access_denied alert and the upstream never sees a byte. With
 * `checkHost` (a tunnel admitted by its address alone), an HTTP request whose Host the policy
 * would not allow is refused the same way, with a 403.
 */
export async function tunnelCheckingFirstBytes(
  ctx: ProxyContext,
  tunnel: AdmittedTunnel,
  upstream: Socket,
  reader: ByteReader,
  options: { checkHost?: boolean } = {},
): Promise<void> {
  const { socket } = tunnel;
  const maxHead = ctx.limits.maxHeaderBytes;
  const early = forwardServerFirst(upstream, socket);
  await reader.fill(
    options.checkHost
      ? (bytes) => destinationSettled(bytes, maxHead)
      : (bytes) => parseClientHello(bytes).kind !== 'need-more',
    ctx.limits.headersTimeoutMs,
    options.checkHost ? Math.max(maxHead, MAX_CLIENT_HELLO_BYTES) : MAX_CLIENT_HELLO_BYTES,
  );
  const earlyBytesIn = early.stop();
  const hello = parseClientHello(reader.bytes);
  if (hello.kind === 'client-hello' && hello.serverName !== null && tunnel.compiled) {
    const refusal = sniRefusal(tunnel.compiled, tunnel.target, hello.serverName);
    if (refusal) {
      await ctx.gate.refuse(refusal, tunnel.client, tunnel.target);
      upstream.destroy();
      refuseTls(socket);
      return;
    }
  }
  const head = options.checkHost ? parseHttpHead(reader.bytes, maxHead) : null;
  if (head?.kind === 'request' && head.host !== undefined && tunnel.compiled) {
    const refusal = hostRefusal(tunnel.compiled, tunnel.target, head.host);
    if (refusal) {
      const refused = await ctx.gate.refuse(refusal, tunnel.client, tunnel.target);
      upstream.destroy();
      if (!refused.ok) writeRaw(socket, refusalText(refused, ctx.accessHint));
      return;
    }
  }
  if (
    ctx.inspect &&
    tunnel.decision.mode === 'inspect' &&
    hello.kind === 'client-hello' &&
    tunnel.compiled
  ) {
    const sni = hello.serverName === null ? undefined : normaliseHost(hello.serverName);
    await ctx.inspect.intercept({
      socket,
      pending: reader.bytes,
      upstream,
      client: tunnel.client,
      compiled: tunnel.compiled,
      decision: tunnel.decision,
      name: sni?.ok ? sni.host.name : tunnel.decision.destination.host,
      port: tunnel.target.port,
      address: tunnel.decision.destination.ip ?? tunnel.decision.destination.host,
    });
    return;
  }
  await relay(ctx, tunnel, upstream, reader.bytes, earlyBytesIn);
}

/**
 * While the client's first bytes are awaited, whatever the server sends first (an SSH banner)
 * goes to the client, with backpressure; an upstream that ends first ends the client too.
 * Lighter than a pipe()/unpipe() pair, which most tunnels (client speaks first) never use.
 * `stop()` ends it and says how many bytes it passed on (they count in request.closed).
 */
function forwardServerFirst(upstream: Socket, socket: Socket): { stop(): number } {
  let bytes = 0;
  const resume = () => upstream.resume();
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (!socket.write(chunk)) {
      upstream.pause();
      socket.once('drain', resume);
    }
  };
  const onEnd = () => socket.end();
  upstream.on('data', onData);
  upstream.once('end', onEnd);
  return {
    stop: () => {
      upstream.off('data', onData);
      upstream.off('end', onEnd);
      socket.off('drain', resume);
      upstream.pause();
      return bytes;
    },
  };
}

/**
 * Joins the sockets (replaying `pending` first) and records request.closed; `earlyBytesIn`
 * came from upstream before the relay (a server-first banner).
 */
export async function relay(
  ctx: ProxyContext,
  tunnel: AdmittedTunnel,
  upstream: Socket,
  pending: Buffer,
  earlyBytesIn = 0,
): Promise<void> {
  tunnel.socket.resume();
  const result = await runTunnel(tunnel.socket, upstream, ctx.limits.idleTimeoutMs, pending);
  // The description is a template string per tunnel: skip it when nothing records events.
  if (!ctx.bus.active) return;
  const d = tunnel.decision.destination;
  ctx.bus.emitLater({
    type: 'request.closed',
    client: tunnel.client,
    decision: tunnel.decision,
    bytesIn: result.bytesIn + earlyBytesIn,
    bytesOut: result.bytesOut,
    durationMs: Math.round(performance.now() - tunnel.started),
    description: `Tunnel to ${d.host}:${tunnel.target.port} closed${result.error ? ` (${result.error})` : ''}.`,
  });
}

/** A TLS fatal access_denied alert, then close: the client's TLS stack reports a clear error. */
export function refuseTls(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end(TLS_ACCESS_DENIED_ALERT);
  socket.destroySoon();
}
