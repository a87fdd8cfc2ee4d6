/**
 * SOCKS5 (RFC 1928) into the same gate as HTTP and CONNECT: CONNECT with a domain name (socks5h,
 * resolved by egress), IPv4 or IPv6; no authentication for a one-policy listener, or
 * username/password (RFC 1929) with user = workspace and password = its token, checked by the
 * same PolicyProvider as Proxy-Authorization. BIND and UDP ASSOCIATE are refused and recorded.
 *
 * Reached on its own port (Socks5Server) or on the HTTP port, where a first byte 0x05 marks a
 * SOCKS5 client (see protocol-sniffer.ts).
 */
import type { Socket } from 'node:net';
import { ByteReader } from '../net/byte-reader.js';
import { DialError, type DialErrorCode } from '../net/dial.js';
import {
  AUTH_METHOD,
  COMMAND,
  COMMAND_NAMES,
  encodeMethodChoice,
  encodeReply,
  encodeUserPassResult,
  parseGreeting,
  parseRequest,
  parseUserPass,
  REPLY,
  type Parsed,
} from '../protocols/socks5-messages.js';
import type { Identification } from './client-identity.js';
import type { ProxyContext } from './context.js';
import type { Admission, GateTarget } from './gate.js';
import { openAdmittedTunnel, tunnelCheckingFirstBytes } from './guarded-tunnel.js';
import { protocolRefusal } from './protocol-refusal.js';
import { StreamListener } from './stream-listener.js';

type Identified = Extract<Identification, { ok: true }>;

const DIAL_REPLIES: Record<DialErrorCode, number> = {
  upstream_refused: REPLY.connectionRefused,
  upstream_timeout: REPLY.ttlExpired,
  upstream_unreachable: REPLY.hostUnreachable,
  upstream_error: REPLY.generalFailure,
};

/** The SOCKS reply for a refused admission: 0x02 for a denial, 0x04 for DNS failures. */
function admissionReply(admission: Extract<Admission, { ok: false }>): number {
  if (admission.status === 403) return REPLY.notAllowedByRuleset;
  if (admission.status === 502) return REPLY.hostUnreachable;
  return REPLY.generalFailure;
}

/** Waits for one whole message; returns it (consumed) or the parse error, or null if cut off. */
async function readMessage<T>(
  ctx: ProxyContext,
  reader: ByteReader,
  parse: (bytes: Buffer) => Parsed<T>,
): Promise<Exclude<Parsed<T>, { kind: 'need-more' }> | null> {
  await reader.fill((b) => parse(b).kind !== 'need-more', ctx.limits.headersTimeoutMs, 1024);
  const parsed = parse(reader.bytes);
  if (parsed.kind === 'need-more') return null;
  if (parsed.kind === 'ok') reader.take(parsed.used);
  return parsed;
}

function finish(socket: Socket, bytes: Buffer): void {
  if (socket.destroyed) return;
  socket.end(bytes);
  socket.destroySoon();
}

/** Method negotiation and, if chosen, username/password: who is this client? */
async function authenticate(
  ctx: ProxyContext,
  socket: Socket,
  reader: ByteReader,
): Promise<Identified | null> {
  const greeting = await readMessage(ctx, reader, parseGreeting);
  if (!greeting || greeting.kind === 'error') {
    socket.destroy();
    return null;
  }
  const address = socket.remoteAddress ?? null;
  const methods = greeting.value.methods;
  const anonymous = ctx.policies.identify(undefined, address);
  if (anonymous.ok && methods.includes(AUTH_METHOD.none)) {
    socket.write(encodeMethodChoice(AUTH_METHOD.none));
    return anonymous;
  }
  if (!methods.includes(AUTH_METHOD.userPass)) {
    finish(socket, encodeMethodChoice(AUTH_METHOD.noAcceptable));
    return null;
  }
  socket.write(encodeMethodChoice(AUTH_METHOD.userPass));
  const creds = await readMessage(ctx, reader, parseUserPass);
  if (!creds || creds.kind === 'error') {
    socket.destroy();
    return null;
  }
  // The same check as Proxy-Authorization: Basic, so both entrances accept the same tokens.
  const basic = Buffer.from(`${creds.value.user}:${creds.value.password}`).toString('base64');
  const id = ctx.policies.identify(`Basic ${basic}`, address);
  if (!id.ok) {
    ctx.log.info({ reason: id.reason, user: creds.value.user, address }, 'SOCKS5 login refused');
    finish(socket, encodeUserPassResult(false));
    return null;
  }
  socket.write(encodeUserPassResult(true));
  return id;
}

/** Serves one SOCKS5 connection; `head` is whatever was already read from it. */
export async function handleSocks5(
  ctx: ProxyContext,
  socket: Socket,
  head: Buffer = Buffer.alloc(0),
): Promise<void> {
  const started = performance.now();
  socket.on('error', () => socket.destroy());
  const reader = new ByteReader(socket, head);
  const id = await authenticate(ctx, socket, reader);
  if (!id) return;
  const request = await readMessage(ctx, reader, parseRequest);
  if (!request) {
    socket.destroy();
    return;
  }
  if (request.kind === 'error') {
    finish(socket, encodeReply(request.reply ?? REPLY.generalFailure));
    return;
  }
  const { command, host, port } = request.value;
  const target: GateTarget = {
    host,
    port,
    transport: command === COMMAND.udpAssociate ? 'udp' : 'tcp',
    ...(port === 443 ? { scheme: 'https' } : {}),
  };
  if (command !== COMMAND.connect) {
    const name = COMMAND_NAMES[command] ?? `command 0x${command.toString(16)}`;
    const refusal = protocolRefusal(id.compiled, target, 'unsupported_command', `SOCKS5 ${name}`);
    await ctx.gate.refuse(refusal, id.client, target);
    finish(socket, encodeReply(REPLY.commandNotSupported));
    return;
  }
  const admission = await ctx.gate.admit(id.compiled, id.client, target);
  if (!admission.ok) {
    finish(socket, encodeReply(admissionReply(admission)));
    return;
  }
  const opened = await openAdmittedTunnel(
    ctx,
    { client: id.client, compiled: id.compiled, target, socket, started },
    admission,
  );
  if (opened instanceof DialError) {
    finish(socket, encodeReply(DIAL_REPLIES[opened.code]));
    return;
  }
  const { tunnel: admitted, upstream } = opened;
  if (socket.destroyed) {
    upstream.destroy();
    return;
  }
  socket.write(
    encodeReply(REPLY.succeeded, {
      address: upstream.localAddress ?? '0.0.0.0',
      port: upstream.localPort ?? 0,
    }),
  );
  await tunnelCheckingFirstBytes(ctx, admitted, upstream, reader);
}

/** A listener that speaks only SOCKS5 (`--socks-listen`). */
export class Socks5Server extends StreamListener {
  constructor(ctx: ProxyContext, host: string, port: number) {
    super(ctx, { host, port, kind: 'socks5' }, (socket) => handleSocks5(ctx, socket));
  }
}
