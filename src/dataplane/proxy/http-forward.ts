/**
 * Plain-HTTP forward proxying: absolute-form requests (`GET http://host/path HTTP/1.1`), with
 * keep-alive on both sides, streamed bodies (chunked or not), and hop-by-hop and Proxy-* headers
 * removed. The upstream connection goes to exactly the address the gate classified.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { normaliseHost } from '../../policy/normalise/host.js';
import type { ProxyContext } from './context.js';
import { failureResponse } from './deny-response.js';
import { endToEndRawHeaders } from './headers.js';
import { ForwardExchange } from './forward-exchange.js';
import { writeText } from './respond.js';
import { admitRequest } from './admit-request.js';
import { Redactor } from '../inspect/redact.js';
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
  const admitted = await admitRequest(ctx, req, target, 'http');
  if (!admitted.ok) {
    writeText(res, admitted.refusal);
    return;
  }
  const { id, admission } = admitted;
  const { decision } = admission;
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
  // Through the parent proxy: absolute form to the parent, which resolves the name itself.
  const parent = admission.viaParent ? ctx.parentProxy : undefined;
  // The path goes into request.closed: a policy's redact patterns apply to it (tokens in URLs).
  const redact = id.compiled?.policy.redact ?? [];
  const exchange = new ForwardExchange(ctx, req, res, {
    client: id.client,
    decision,
    address: admission.address,
    target: redact.length ? { ...target, path: new Redactor(redact).text(target.path) } : target,
    started,
    recorder,
  });
  const headers = endToEndRawHeaders(req.rawHeaders);
  dropExpect(headers);
  if (req.headers.host === undefined)
    headers.push('host', target.port === 80 ? target.host : `${target.host}:${target.port}`);
  if (parent?.authorization) headers.push('proxy-authorization', parent.authorization);
  const dispatcher = await ctx.upstream.get();
  dispatcher.dispatch(
    {
      origin: parent
        ? `http://${authorityOf({ host: parent.host, port: parent.port })}`
        : `http://${authorityOf({ host: admission.address, port: target.port })}`,
      method: req.method ?? 'GET',
      path: parent ? `http://${authorityOf(target)}${target.path}` : target.path,
      headers,
      // undici streams async iterables (its typings list only Readable).
      body: hasBody(req) ? (exchange.requestBody() as unknown as Readable) : null,
    },
    exchange,
  );
}

/** An `Expect: 100-continue` was already answered by node's server; undici refuses to send it. */
function dropExpect(headers: string[]): void {
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i]!.length === 6 && headers[i]!.toLowerCase() === 'expect') {
      headers.splice(i, 2);
      i -= 2;
    }
}

/** HTTP/1.1 message framing: a request has a body only with Content-Length or Transfer-Encoding. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

function authorityOf(target: { host: string; port: number }): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port}`;
}
