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
import { protocolRefusal } from '../../policy/engine/refusals.js';
import type { RequestTarget } from '../decider/decider.js';
import { ByteReader } from '../net/byte-reader.js';
import {
  destinationSettled,
  peekDestination,
  type PeekedDestination,
} from '../protocols/first-bytes.js';
import { hostHeaderTarget } from '../protocols/http-target.js';
import { MAX_CLIENT_HELLO_BYTES } from '../protocols/tls-client-hello.js';
import type { ProxyContext } from './context.js';
import { relay, tunnelCheckingFirstBytes } from './guarded-tunnel.js';
import type { Medium } from './request-flow.js';
import { StreamListener } from './stream-listener.js';

/** The gate's target for a peeked destination (see the header comment for the port rules). */
export function transparentTarget(
  peeked: PeekedDestination,
  originalPort: number | undefined,
): RequestTarget {
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

/** Refusals in the client's own protocol: a TLS alert, an HTTP response, or a plain close. */
function mediumOf(protocol: PeekedDestination['protocol']): Medium {
  return protocol === 'tls' ? 'tls' : protocol === 'http' ? 'raw-http' : 'close';
}

/** Redirected traffic carries no credentials: run one listener per workspace. */
const NO_CREDENTIALS = '; transparent connections carry no credentials';

/**
 * Where a redirected connection was really going, when the entrance can find out (the sandbox
 * reads it back from nftables), and the names the sandbox's DNS gave for that address.
 */
export interface OriginalDestination {
  locate(socket: Socket): Promise<{ ip: string; port: number } | null>;
  namesFor(ip: string): readonly string[];
  /**
   * How long to wait for the client's first bytes before judging the connection by its
   * address: a server-first protocol (SMTP, MySQL) says nothing until the server has spoken.
   */
  firstBytesWaitMs: number;
}

export async function handleTransparent(
  ctx: ProxyContext,
  socket: Socket,
  originalPort?: number,
  original?: OriginalDestination,
): Promise<void> {
  socket.on('error', () => socket.destroy());
  const maxHead = ctx.limits.maxHeaderBytes;
  const reader = new ByteReader(socket);
  const origin = original ? await original.locate(socket) : null;
  const names = origin && original ? original.namesFor(origin.ip) : [];
  // A name the program looked up through our DNS says where it is going before any byte does
  // (its first bytes are checked after admission). Otherwise the bytes must tell: a short wait
  // when the address is known (a server-first protocol says nothing), else the head timeout.
  if (names.length === 0)
    await reader.fill(
      (bytes) => destinationSettled(bytes, maxHead),
      origin && original ? original.firstBytesWaitMs : ctx.limits.headersTimeoutMs,
      Math.max(maxHead, MAX_CLIENT_HELLO_BYTES),
    );
  if (socket.destroyed || (reader.bytes.length === 0 && !origin)) {
    socket.destroy();
    return;
  }
  const peeked = peekDestination(reader.bytes, maxHead);
  const address = socket.remoteAddress ?? null;
  if (origin && (names.length > 0 || peeked.host === null)) {
    await admitByAddress(ctx, socket, reader, origin, names, address);
    return;
  }
  // The port the client connected to, when known, beats the guesses (443 for TLS, Host's port).
  const target = transparentTarget(peeked, origin?.port ?? originalPort);
  const medium = mediumOf(peeked.protocol);
  const flow = ctx.flows.open(
    target,
    undefined,
    address,
    'tunnel',
    medium,
    socket,
    null,
    undefined,
    NO_CREDENTIALS,
  );
  if (peeked.host === null && !flow.unidentified) {
    const what =
      peeked.protocol === 'tls'
        ? 'a TLS ClientHello without a server name (SNI)'
        : peeked.protocol === 'http'
          ? 'an HTTP request without a usable Host header'
          : 'neither TLS nor HTTP';
    await flow.refuse(protocolRefusal(flow.compiled, target, 'no_destination_name', what));
    return;
  }
  if (!(await flow.admit())) return;
  const upstream = await flow.dial();
  if (!upstream) return;
  await relay(flow, socket, upstream, reader.bytes);
}

/**
 * A redirected connection whose original address is known, and either the sandbox's DNS gave
 * that address for names, or its first bytes name nothing (neither TLS with a server name nor
 * HTTP with a Host, or silent so far): judged by those names, then the address
 * (gate.admitObserved), and dialled at exactly that address and port. Its first bytes are then
 * checked as a CONNECT tunnel's are (a ClientHello's server name, and here also an HTTP Host),
 * so an address looked up for an allowed name cannot carry a request for another one.
 */
async function admitByAddress(
  ctx: ProxyContext,
  socket: Socket,
  reader: ByteReader,
  origin: { ip: string; port: number },
  names: readonly string[],
  address: string | null,
): Promise<void> {
  const target = { host: origin.ip, port: origin.port, transport: 'tcp' as const };
  const flow = ctx.flows.open(target, undefined, address, 'tunnel', 'close', socket);
  // The verdict waits for the first bytes: they may still name another server.
  if (!(await flow.admitObserved(names, true))) return;
  const upstream = await flow.dial();
  if (!upstream) return;
  await tunnelCheckingFirstBytes(flow, socket, upstream, reader, true);
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
