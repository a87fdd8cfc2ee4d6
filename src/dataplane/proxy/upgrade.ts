/**
 * Upgrades through the forward proxy (WebSocket over plain HTTP: `GET http://host/ws` with
 * `Upgrade: websocket`). Judged like any forward request, then the request head is replayed to
 * the classified address (or through the parent proxy) and the two sockets are joined.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { explain } from '../../policy/engine/explain.js';
import { DialError } from '../net/dial.js';
import type { ProxyContext } from './context.js';
import { failureResponse } from './deny-response.js';
import { admitRequest } from './admit-request.js';
import { endToEndHeaders } from './headers.js';
import { absoluteTarget } from './http-forward.js';
import { openAdmittedTunnel } from './guarded-tunnel.js';
import { writeRaw } from './respond.js';
import { runTunnel } from './tunnel.js';

export async function handleUpgrade(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
): Promise<void> {
  const started = performance.now();
  socket.on('error', () => socket.destroy());
  const target = absoluteTarget(req.url);
  if (!target) {
    writeRaw(
      socket,
      failureResponse(
        400,
        'bad_request',
        'upgrades through egress need an absolute-form URL (GET http://host/path)',
      ),
    );
    return;
  }
  const admitted = await admitRequest(ctx, req, target, 'ws');
  if (!admitted.ok) {
    writeRaw(socket, admitted.refusal);
    return;
  }
  const { id, admission, query } = admitted;
  // The shared step of every tunnel: exactly the classified address, or through the parent
  // proxy for its destinations; a failure is recorded as request.failed.
  const opened = await openAdmittedTunnel(
    ctx,
    { client: id.client, compiled: id.compiled, target: query, socket, started },
    admission,
  );
  if (opened instanceof DialError) {
    writeRaw(socket, failureResponse(opened.status, opened.code, opened.message));
    return;
  }
  const { upstream } = opened;
  const headers = endToEndHeaders(req.headers, true);
  headers.host = req.headers.host ?? target.host;
  const lines = [`${req.method} ${target.path} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(v)}`);
  }
  upstream.write(lines.join('\r\n') + '\r\n\r\n');
  const result = await runTunnel(socket, upstream, ctx.limits.idleTimeoutMs, head);
  if (!ctx.bus.active) return;
  ctx.bus.emitLater({
    type: 'request.closed',
    client: id.client,
    decision: admission.decision,
    http: { method: req.method ?? 'GET', path: target.path },
    bytesIn: result.bytesIn,
    bytesOut: result.bytesOut,
    durationMs: Math.round(performance.now() - started),
    description: `${explain(admission.decision)} Upgrade closed.`,
  });
}
