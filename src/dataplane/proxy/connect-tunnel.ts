/**
 * CONNECT tunnels to any port the policy allows. The tunnel is judged by its authority, then
 * the first bytes from the client are peeked: a TLS ClientHello whose server name the policy
 * would not allow is refused with a TLS alert (domain fronting), without terminating TLS.
 */
import type { Socket } from 'node:net';
import { ByteReader } from '../net/byte-reader.js';
import { DialError } from '../net/dial.js';
import type { ProxyContext } from './context.js';
import { failureResponse } from './deny-response.js';
import type { GateTarget } from './gate.js';
import { openAdmittedTunnel, tunnelCheckingFirstBytes } from './guarded-tunnel.js';
import { authText, refusalText, writeRaw } from './respond.js';

/** The same bytes for every tunnel: encoded once, not per write. */
const CONNECTED = Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1');

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
  const started = performance.now();
  socket.on('error', () => socket.destroy());
  const authority = parseAuthority(req.target);
  if (!authority) {
    writeRaw(
      socket,
      failureResponse(400, 'bad_request', `CONNECT needs host:port, got "${req.target ?? ''}"`),
    );
    return;
  }
  const id = ctx.policies.identify(req.proxyAuthorization, socket.remoteAddress ?? null);
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
  const opened = await openAdmittedTunnel(
    ctx,
    { client: id.client, compiled: id.compiled, target, socket, started },
    admission,
  );
  if (opened instanceof DialError) {
    writeRaw(socket, failureResponse(opened.status, opened.code, opened.message));
    return;
  }
  const { tunnel: admitted, upstream } = opened;
  if (socket.destroyed) {
    upstream.destroy();
    return;
  }
  socket.write(CONNECTED);
  await tunnelCheckingFirstBytes(ctx, admitted, upstream, new ByteReader(socket, head));
}
