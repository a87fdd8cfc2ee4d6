/**
 * CONNECT tunnels to any port the policy allows. The tunnel is judged by its authority, then
 * the first bytes from the client are peeked: a TLS ClientHello whose server name the policy
 * would not allow is refused with a TLS alert (domain fronting), without terminating TLS.
 */
import type { Socket } from 'node:net';
import { ByteReader } from '../net/byte-reader.js';
import { parseAuthority } from '../protocols/http-target.js';
import { failureText, writeRaw } from '../responses/render.js';
import type { ProxyContext } from './context.js';
import { tunnelCheckingFirstBytes } from './guarded-tunnel.js';

/** The same bytes for every tunnel: encoded once, not per write. */
const CONNECTED = Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1');

/** What a CONNECT head says: from node:http's parser, or from the fast path (connect-head.ts). */
export interface ConnectRequest {
  target: string | undefined;
  proxyAuthorization: string | undefined;
}

export async function handleConnect(
  ctx: ProxyContext,
  req: ConnectRequest,
  socket: Socket,
  head: Buffer,
): Promise<void> {
  socket.on('error', () => socket.destroy());
  const authority = parseAuthority(req.target);
  if (!authority) {
    const message = `CONNECT needs host:port, got "${req.target ?? ''}"`;
    writeRaw(socket, failureText('bad_request', message));
    return;
  }
  const target =
    authority.port === 443
      ? { host: authority.host, port: 443, transport: 'tcp' as const, scheme: 'https' }
      : { host: authority.host, port: authority.port, transport: 'tcp' as const };
  const address = socket.remoteAddress ?? null;
  const flow = ctx.flows.open(
    target,
    req.proxyAuthorization,
    address,
    'tunnel',
    'raw-http',
    socket,
  );
  // The verdict waits for the first bytes: a ClientHello may still name another server.
  if (!(await flow.admit(true))) return;
  const upstream = await flow.dial();
  if (!upstream) return;
  socket.write(CONNECTED);
  await tunnelCheckingFirstBytes(flow, socket, upstream, new ByteReader(socket, head));
}
