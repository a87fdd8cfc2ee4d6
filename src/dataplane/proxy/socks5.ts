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
import { protocolRefusal } from '../../policy/engine/refusals.js';
import { ByteReader } from '../net/byte-reader.js';
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
import { endWith } from '../responses/render.js';
import type { Identification } from './client-identity.js';
import type { ProxyContext } from './context.js';
import { tunnelCheckingFirstBytes } from './guarded-tunnel.js';
import { StreamListener } from './stream-listener.js';

type Identified = Extract<Identification, { ok: true }>;

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
  const anonymous = ctx.flows.policies.identify(undefined, address);
  if (anonymous.ok && methods.includes(AUTH_METHOD.none)) {
    socket.write(encodeMethodChoice(AUTH_METHOD.none));
    return anonymous;
  }
  if (!methods.includes(AUTH_METHOD.userPass)) {
    endWith(socket, encodeMethodChoice(AUTH_METHOD.noAcceptable));
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
  const id = ctx.flows.policies.identify(`Basic ${basic}`, address);
  if (!id.ok) {
    ctx.log.info({ reason: id.reason, user: creds.value.user, address }, 'SOCKS5 login refused');
    endWith(socket, encodeUserPassResult(false));
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
    endWith(socket, encodeReply(request.reply ?? REPLY.generalFailure));
    return;
  }
  const { command, host, port } = request.value;
  const transport = command === COMMAND.udpAssociate ? ('udp' as const) : ('tcp' as const);
  const target =
    port === 443 ? { host, port, transport, scheme: 'https' } : { host, port, transport };
  const flow = ctx.flows.identified(id, target, 'tunnel', 'socks', socket);
  if (command !== COMMAND.connect) {
    const name = COMMAND_NAMES[command] ?? `command 0x${command.toString(16)}`;
    const refusal = protocolRefusal(id.compiled, target, 'unsupported_command', `SOCKS5 ${name}`);
    await flow.refuse(refusal);
    return;
  }
  // The verdict waits for the first bytes: a ClientHello may still name another server.
  if (!(await flow.admit(true))) return;
  const upstream = await flow.dial();
  if (!upstream) return;
  socket.write(
    encodeReply(REPLY.succeeded, {
      address: upstream.localAddress ?? '0.0.0.0',
      port: upstream.localPort ?? 0,
    }),
  );
  await tunnelCheckingFirstBytes(flow, socket, upstream, reader);
}

/** A listener that speaks only SOCKS5 (`--socks-listen`). */
export class Socks5Server extends StreamListener {
  constructor(ctx: ProxyContext, host: string, port: number) {
    super(ctx, { host, port, kind: 'socks5' }, (socket) => handleSocks5(ctx, socket));
  }
}
