/**
 * Upgrades through the forward proxy (WebSocket over plain HTTP: `GET http://host/ws` with
 * `Upgrade: websocket`). Judged like any forward request, then the request head is replayed to
 * the classified address (or through the parent proxy) and the two sockets are joined.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { endToEndHeaders } from '../protocols/http-headers.js';
import { absoluteTarget } from '../protocols/http-target.js';
import { failureText, writeRaw } from '../responses/render.js';
import type { ProxyContext } from './context.js';
import { relay } from './guarded-tunnel.js';

const NOT_ABSOLUTE = 'upgrades through egress need an absolute-form URL (GET http://host/path)';

export async function handleUpgrade(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
): Promise<void> {
  socket.on('error', () => socket.destroy());
  const target = absoluteTarget(req.url);
  if (!target) {
    writeRaw(socket, failureText('bad_request', NOT_ABSOLUTE));
    return;
  }
  const method = req.method ?? 'GET';
  const flow = ctx.flows.open(
    {
      host: target.host,
      port: target.port,
      transport: 'tcp',
      scheme: 'ws',
      method,
      path: target.path,
    },
    req.headers['proxy-authorization'],
    socket.remoteAddress ?? null,
    'upgrade',
    'raw-http',
    socket,
    null,
    req.headers.host,
  );
  if (!(await flow.admit())) return;
  flow.recordPath(target.path);
  const upstream = await flow.dial();
  if (!upstream) return;
  const headers = endToEndHeaders(req.headers, true);
  headers.host = req.headers.host ?? target.host;
  const lines = [`${method} ${target.path} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(v)}`);
  }
  upstream.write(lines.join('\r\n') + '\r\n\r\n');
  await relay(flow, socket, upstream, head);
}
