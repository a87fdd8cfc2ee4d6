/**
 * Plain-HTTP forward proxying: absolute-form requests (`GET http://host/path HTTP/1.1`), with
 * keep-alive on both sides, streamed bodies (chunked or not), and hop-by-hop and Proxy-* headers
 * removed. The upstream connection goes to exactly the address the gate classified.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { normaliseHost } from '../../policy/normalise/host.js';
import { explain } from '../../policy/engine/explain.js';
import type { ProxyContext } from './context.js';
import { failureResponse } from './deny-response.js';
import { dialErrorFrom } from '../net/dial.js';
import { endToEndHeaders } from './headers.js';
import { authText, refusalText, writeText } from './respond.js';
import { frontingRefusal } from './fronting.js';
import { ExchangeRecorder } from '../inspect/capture.js';

export interface ParsedTarget {
  host: string;
  port: number;
  path: string;
}

/** The target of an absolute-form request; undefined for origin-form or a malformed URL. */
export function absoluteTarget(rawUrl: string | undefined): ParsedTarget | undefined {
  if (!rawUrl || !/^http:\/\//i.test(rawUrl)) return undefined;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return undefined;
  }
  if (url.username || url.password) return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port ? Number(url.port) : 80, path: `${url.pathname}${url.search}` };
}

/** Host header → host and port (default 80), or undefined if it does not parse. */
export function hostHeaderTarget(
  value: string | undefined,
  defaultPort = 80,
): { host: string; port: number } | undefined {
  if (!value) return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::([0-9]{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  const normal = normaliseHost(m[1] ?? m[2] ?? '');
  if (!normal.ok) return undefined;
  return { host: normal.host.name, port: m[3] ? Number(m[3]) : defaultPort };
}

export async function handleForward(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = performance.now();
  const address = req.socket.remoteAddress ?? null;
  const target = absoluteTarget(req.url);
  if (!target) {
    const text = failureResponse(
      400,
      'bad_request',
      'egress is a forward proxy: send absolute-form requests (GET http://host/path), e.g. by setting HTTP_PROXY.',
    );
    writeText(res, text);
    return;
  }
  const id = ctx.policies.identify(req.headers['proxy-authorization'], address);
  if (!id.ok) {
    writeText(res, authText(id));
    return;
  }
  const query = {
    host: target.host,
    port: target.port,
    transport: 'tcp' as const,
    scheme: 'http',
    method: req.method ?? 'GET',
    path: target.path,
  };
  const fronting = await frontingRefusal(ctx, id, query, req.headers.host);
  if (fronting) {
    writeText(res, refusalText(fronting, ctx.accessHint));
    return;
  }
  const admission = await ctx.gate.admit(id.compiled, id.client, query);
  if (!admission.ok) {
    writeText(res, refusalText(admission, ctx.accessHint));
    return;
  }
  const { decision } = admission;
  let bytesOut = 0;
  let bytesIn = 0;
  // Inspect mode records the exchange (redacted) as an inspect.exchange event.
  const recorder =
    decision.mode === 'inspect' && id.compiled
      ? new ExchangeRecorder(id.compiled.policy, {
          method: req.method ?? 'GET',
          url: `http://${req.headers.host ?? target.host}${target.path}`,
          path: target.path,
          headers: req.headers,
        })
      : null;
  const headers = endToEndHeaders(req.headers);
  headers.host =
    req.headers.host ?? (target.port === 80 ? target.host : `${target.host}:${target.port}`);
  // Through the parent proxy: absolute form to the parent, which resolves the name itself.
  const parent = admission.viaParent ? ctx.parentProxy : undefined;
  if (parent?.authorization) headers['proxy-authorization'] = parent.authorization;
  const upstream = httpRequest({
    host: parent ? parent.host : admission.address,
    port: parent ? parent.port : target.port,
    method: req.method,
    path: parent ? `http://${authorityOf(target)}${target.path}` : target.path,
    headers,
    agent: ctx.agent,
    setHost: false,
    timeout: ctx.limits.idleTimeoutMs,
  });
  const finish = (status: number | undefined, failure?: string) => {
    if (recorder)
      ctx.bus.emitLater(
        recorder.event(
          id.client,
          decision,
          {
            host: decision.destination.host,
            ip: admission.address,
            port: target.port,
            transport: 'tcp',
            scheme: 'http',
          },
          failure,
        ),
      );
    ctx.bus.emitLater({
      type: failure ? 'request.failed' : 'request.closed',
      client: id.client,
      decision,
      ...(failure ? { reason: failure } : {}),
      http: { method: req.method ?? 'GET', path: target.path, ...(status ? { status } : {}) },
      bytesIn,
      bytesOut,
      durationMs: Math.round(performance.now() - started),
      description: failure
        ? `${explain(decision)} The upstream failed: ${failure}.`
        : `${req.method} http://${decision.destination.host}:${target.port}${target.path} → ${status}`,
    });
  };
  req.on('data', (chunk: Buffer) => {
    bytesOut += chunk.length;
    recorder?.request.add(chunk);
  });
  req.pipe(upstream);
  upstream.on('timeout', () =>
    upstream.destroy(Object.assign(new Error('upstream idle timeout'), { code: 'ETIMEDOUT' })),
  );
  upstream.on('error', (err) => {
    const failure = dialErrorFrom(err, `${decision.destination.host}:${target.port}`);
    finish(undefined, failure.code);
    writeText(res, failureResponse(failure.status, failure.code, failure.message));
  });
  upstream.on('response', (up) => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, endToEndHeaders(up.headers));
    recorder?.onResponse(up.statusCode ?? 502, up.headers);
    up.on('data', (chunk: Buffer) => {
      bytesIn += chunk.length;
      recorder?.response.add(chunk);
    });
    up.pipe(res);
    up.on('end', () => finish(up.statusCode));
    up.on('error', () => res.destroy());
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
}

function authorityOf(target: ParsedTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port}`;
}
