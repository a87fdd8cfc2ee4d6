/**
 * Transparent mode: connections redirected to this listener (nftables/iptables REDIRECT in a
 * sandbox) carry no proxy protocol, so the destination name is read from the first bytes: the
 * TLS server name (SNI) of a ClientHello, or the Host header of a plain HTTP request. The
 * address the client dialled is not used: egress resolves the name itself and dials the
 * address it classified, as for every other entrance.
 *
 * The original port cannot be read without native code (SO_ORIGINAL_DST), so a listener either
 * is told it (`--transparent-listen 127.0.0.1:15001=443`: one listener per redirected port), or
 * assumes 443 for TLS and the Host header's port (else 80) for HTTP. A mapped port wins over
 * the Host header's port: it is where the client really connected.
 */
import type { Socket } from 'node:net';
import { ByteReader } from '../net/byte-reader.js';
import { DialError } from '../net/dial.js';
import { parseHttpHead } from '../protocols/http-head.js';
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from '../protocols/tls-client-hello.js';
import type { ProxyContext } from './context.js';
import { failureResponse } from './deny-response.js';
import type { Admission, GateTarget } from './gate.js';
import { openAdmittedTunnel, refuseTls, relay } from './guarded-tunnel.js';
import { hostHeaderTarget } from './http-forward.js';
import { protocolRefusal } from './protocol-refusal.js';
import { refusalText, writeRaw } from './respond.js';
import { StreamListener } from './stream-listener.js';

/** What the first bytes say about where the client wants to go. */
export type PeekedDestination =
  | { protocol: 'tls'; host: string | null }
  | { protocol: 'http'; host: string | null }
  | { protocol: 'unknown'; host: null };

/** True once the bytes are enough to tell (a whole ClientHello or a whole request head). */
export function destinationSettled(bytes: Buffer, maxHeadBytes: number): boolean {
  const hello = parseClientHello(bytes);
  if (hello.kind !== 'not-tls') return hello.kind !== 'need-more';
  return parseHttpHead(bytes, maxHeadBytes).kind !== 'need-more';
}

export function peekDestination(bytes: Buffer, maxHeadBytes: number): PeekedDestination {
  const hello = parseClientHello(bytes);
  if (hello.kind === 'client-hello') return { protocol: 'tls', host: hello.serverName };
  if (hello.kind !== 'not-tls') return { protocol: 'tls', host: null };
  const head = parseHttpHead(bytes, maxHeadBytes);
  if (head.kind === 'request') return { protocol: 'http', host: head.host ?? null };
  if (head.kind === 'malformed') return { protocol: 'http', host: null };
  return { protocol: 'unknown', host: null };
}

/** The gate's target for a peeked destination (see the header comment for the port rules). */
export function transparentTarget(
  peeked: PeekedDestination,
  originalPort: number | undefined,
): GateTarget {
  const tls = peeked.protocol === 'tls';
  const defaultPort = originalPort ?? (tls ? 443 : 80);
  const scheme = tls ? { scheme: 'https' } : peeked.protocol === 'http' ? { scheme: 'http' } : {};
  if (peeked.host === null)
    return { host: '(unknown)', port: defaultPort, transport: 'tcp', ...scheme };
  if (tls) return { host: peeked.host, port: defaultPort, transport: 'tcp', ...scheme };
  const header = hostHeaderTarget(peeked.host, defaultPort);
  // A Host header that does not parse goes to the gate as written: it is denied as invalid.
  const host = header?.host ?? peeked.host;
  const port = originalPort ?? header?.port ?? defaultPort;
  return { host, port, transport: 'tcp', ...scheme };
}

/** Refuses in the client's own protocol: a TLS alert, an HTTP response, or a plain close. */
function refuse(
  ctx: ProxyContext,
  socket: Socket,
  protocol: PeekedDestination['protocol'],
  admission: Extract<Admission, { ok: false }>,
): void {
  if (protocol === 'tls' && admission.status === 403) refuseTls(socket);
  else if (protocol === 'http') writeRaw(socket, refusalText(admission, ctx.accessHint));
  else socket.destroy();
}

export async function handleTransparent(
  ctx: ProxyContext,
  socket: Socket,
  originalPort?: number,
): Promise<void> {
  const started = performance.now();
  socket.on('error', () => socket.destroy());
  const maxHead = ctx.limits.maxHeaderBytes;
  const reader = new ByteReader(socket);
  await reader.fill(
    (bytes) => destinationSettled(bytes, maxHead),
    ctx.limits.headersTimeoutMs,
    Math.max(maxHead, MAX_CLIENT_HELLO_BYTES),
  );
  if (socket.destroyed || reader.bytes.length === 0) {
    socket.destroy();
    return;
  }
  const peeked = peekDestination(reader.bytes, maxHead);
  const target = transparentTarget(peeked, originalPort);
  const id = ctx.policies.identify(undefined, socket.remoteAddress ?? null);
  if (!id.ok) {
    // Redirected traffic carries no credentials: run one listener per workspace.
    const message = `${id.message}; transparent connections carry no credentials`;
    refuse(ctx, socket, peeked.protocol, {
      ok: false,
      decision: null,
      status: 403,
      reason: id.reason,
      message,
    });
    return;
  }
  if (peeked.host === null) {
    const what =
      peeked.protocol === 'tls'
        ? 'a TLS ClientHello without a server name (SNI)'
        : peeked.protocol === 'http'
          ? 'an HTTP request without a usable Host header'
          : 'neither TLS nor HTTP';
    const decision = protocolRefusal(id.compiled, target, 'no_destination_name', what);
    const refused = await ctx.gate.refuse(decision, id.client, target);
    if (!refused.ok) refuse(ctx, socket, peeked.protocol, refused);
    return;
  }
  const admission = await ctx.gate.admit(id.compiled, id.client, target);
  if (!admission.ok) {
    refuse(ctx, socket, peeked.protocol, admission);
    return;
  }
  const opened = await openAdmittedTunnel(
    ctx,
    { client: id.client, compiled: id.compiled, target, socket, started },
    admission,
  );
  if (opened instanceof DialError) {
    if (peeked.protocol === 'http')
      writeRaw(socket, failureResponse(opened.status, opened.code, opened.message));
    else socket.destroy();
    return;
  }
  const { tunnel: admitted, upstream } = opened;
  if (socket.destroyed) {
    upstream.destroy();
    return;
  }
  await relay(ctx, admitted, upstream, reader.bytes);
}

/** `--transparent-listen HOST:PORT[=ORIGINAL_PORT]`. */
export class TransparentListener extends StreamListener {
  constructor(ctx: ProxyContext, host: string, port: number, originalPort?: number) {
    super(ctx, { host, port, kind: 'transparent' }, (socket) =>
      handleTransparent(ctx, socket, originalPort),
    );
  }
}

/** Parses `HOST:PORT` or `HOST:PORT=ORIGINAL_PORT` (`[v6]:PORT=443`); undefined if malformed. */
export function parseTransparentListen(
  text: string,
): { host: string; port: number; originalPort?: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:=]+)):([0-9]{1,5})(?:=([0-9]{1,5}))?$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  const originalPort = m[4] === undefined ? undefined : Number(m[4]);
  if (port > 65535 || (originalPort !== undefined && (originalPort < 1 || originalPort > 65535)))
    return undefined;
  return { host: m[1] ?? m[2]!, port, ...(originalPort ? { originalPort } : {}) };
}
