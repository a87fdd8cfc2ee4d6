/**
 * CONNECT tunnels to any port the policy allows. The tunnel is judged by its authority, then
 * the first bytes from the client are peeked: a TLS ClientHello whose server name the policy
 * would not allow is refused with a TLS alert (domain fronting), without terminating TLS.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { explain } from '../../policy/engine/explain.js';
import type { CompiledPolicy, Decision } from '../../policy/index.js';
import {
  parseClientHello,
  TLS_ACCESS_DENIED_ALERT,
  MAX_CLIENT_HELLO_BYTES,
} from '../protocols/tls-client-hello.js';
import { dial, DialError } from '../net/dial.js';
import { connectThroughParent } from '../net/parent-proxy.js';
import type { ClientContext } from '../events/event.js';
import type { ProxyContext } from './context.js';
import { failureResponse } from './deny-response.js';
import { sniRefusal } from './fronting.js';
import type { GateTarget } from './gate.js';
import { authText, refusalText, writeRaw } from './respond.js';
import { runTunnel } from './tunnel.js';

/** `host:port` or `[v6]:port`; the port is required. */
export function parseAuthority(
  url: string | undefined,
): { host: string; port: number } | undefined {
  if (!url) return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:/@\s]+)):([0-9]{1,5})$/.exec(url);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/** Reads the client's first bytes until a ClientHello is complete, or it is clearly not TLS. */
function readFirstBytes(socket: Socket, head: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let buf = head;
    const settle = () => {
      socket.off('data', onData);
      socket.off('end', settle);
      socket.off('close', settle);
      clearTimeout(timer);
      socket.pause();
      resolve(buf);
    };
    const check = () => {
      const r = parseClientHello(buf);
      if (r.kind !== 'need-more' || buf.length >= MAX_CLIENT_HELLO_BYTES) settle();
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      check();
    };
    const timer = setTimeout(settle, timeoutMs);
    socket.on('data', onData);
    socket.once('end', settle);
    socket.once('close', settle);
    if (buf.length) check();
  });
}

async function refuseSni(
  ctx: ProxyContext,
  client: ClientContext,
  target: GateTarget,
  decision: Decision,
  socket: Socket,
  upstream: Socket,
): Promise<void> {
  await ctx.gate.refuse(decision, client, target);
  upstream.destroy();
  socket.end(TLS_ACCESS_DENIED_ALERT);
  socket.destroySoon();
}

export async function handleConnect(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
): Promise<void> {
  const started = performance.now();
  socket.on('error', () => socket.destroy());
  const authority = parseAuthority(req.url);
  if (!authority) {
    writeRaw(
      socket,
      failureResponse(400, 'bad_request', `CONNECT needs host:port, got "${req.url ?? ''}"`),
    );
    return;
  }
  const id = ctx.policies.identify(
    req.headers['proxy-authorization'],
    socket.remoteAddress ?? null,
  );
  if (!id.ok) {
    writeRaw(socket, authText(id));
    return;
  }
  const target: GateTarget = {
    host: authority.host,
    port: authority.port,
    transport: 'tcp',
    ...(authority.port === 443 ? { scheme: 'https' } : {}),
  };
  const admission = await ctx.gate.admit(id.compiled, id.client, target);
  if (!admission.ok) {
    writeRaw(socket, refusalText(admission, ctx.accessHint));
    return;
  }
  let upstream: Socket;
  try {
    upstream =
      admission.viaParent && ctx.parentProxy
        ? await connectThroughParent(
            ctx.parentProxy,
            admission.address,
            authority.port,
            ctx.limits.connectTimeoutMs,
          )
        : await dial(admission.address, authority.port, ctx.limits.connectTimeoutMs);
  } catch (err) {
    const failure = err instanceof DialError ? err : new DialError('upstream_error', String(err));
    ctx.bus.emitLater({
      type: 'request.failed',
      client: id.client,
      decision: admission.decision,
      reason: failure.code,
      description: `${explain(admission.decision)} ${failure.message}.`,
    });
    writeRaw(socket, failureResponse(failure.status, failure.code, failure.message));
    return;
  }
  if (socket.destroyed) {
    upstream.destroy();
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  // Let server-first protocols (SSH, SMTP) speak while we wait for the client's first bytes.
  upstream.pipe(socket, { end: true });
  const first = await readFirstBytes(socket, head, ctx.limits.headersTimeoutMs);
  upstream.unpipe(socket);
  const hello = parseClientHello(first);
  if (hello.kind === 'client-hello' && hello.serverName !== null) {
    const refusal = sniRefusal(id.compiled as CompiledPolicy, target, hello.serverName);
    if (refusal) {
      await refuseSni(ctx, id.client, target, refusal, socket, upstream);
      return;
    }
  }
  socket.resume();
  const result = await runTunnel(socket, upstream, ctx.limits.idleTimeoutMs, first);
  ctx.bus.emitLater({
    type: 'request.closed',
    client: id.client,
    decision: admission.decision,
    bytesIn: result.bytesIn,
    bytesOut: result.bytesOut,
    durationMs: Math.round(performance.now() - started),
    description: `Tunnel to ${admission.decision.destination.host}:${authority.port} closed${result.error ? ` (${result.error})` : ''}.`,
  });
}
