/**
 * Plain-HTTP forward proxying: absolute-form requests (`GET http://host/path HTTP/1.1`), with
 * keep-alive on both sides, streamed bodies (chunked or not), and hop-by-hop and Proxy-* headers
 * removed. The upstream connection goes to exactly the address the gate classified.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { ExchangeRecorder } from '../inspect/capture.js';
import { endToEndRawHeaders } from '../protocols/http-headers.js';
import { absoluteTarget, formatAuthority, type ParsedTarget } from '../protocols/http-target.js';
import { failureText, writeText } from '../responses/render.js';
import type { ProxyContext } from './context.js';
import { ForwardExchange } from './forward-exchange.js';

const NOT_ABSOLUTE =
  'egress is a forward proxy: send absolute-form requests (GET http://host/path), e.g. by setting HTTP_PROXY.';

export async function handleForward(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const target = absoluteTarget(req.url);
  if (!target) {
    writeText(res, failureText('bad_request', NOT_ABSOLUTE));
    return;
  }
  const method = req.method ?? 'GET';
  const flow = ctx.flows.open(
    {
      host: target.host,
      port: target.port,
      transport: 'tcp',
      scheme: 'http',
      method,
      path: target.path,
    },
    req.headers['proxy-authorization'],
    req.socket.remoteAddress ?? null,
    'forward',
    'response',
    null,
    res,
    req.headers.host,
  );
  if (!(await flow.admit())) return;
  const decision = flow.decision!;
  // The path goes into request.closed: a policy's redact patterns apply to it (tokens in URLs).
  flow.recordPath(target.path);
  // Inspect mode records the exchange (redacted) as an inspect.exchange event.
  const recorder =
    decision.mode === 'inspect' && flow.compiled
      ? new ExchangeRecorder(flow.compiled.policy, {
          method,
          url: `http://${req.headers.host ?? target.host}${target.path}`,
          path: target.path,
          headers: req.headers,
        })
      : null;
  // Through the parent proxy: absolute form to the parent, which resolves the name itself.
  const parent = flow.viaParent ? ctx.flows.parentProxy : undefined;
  const exchange = new ForwardExchange(flow, req, res, recorder);
  const headers = endToEndRawHeaders(req.rawHeaders);
  dropExpect(headers);
  if (req.headers.host === undefined)
    headers.push('host', target.port === 80 ? target.host : `${target.host}:${target.port}`);
  if (parent?.authorization) headers.push('proxy-authorization', parent.authorization);
  const dispatcher = await ctx.upstream.get();
  dispatcher.dispatch(
    {
      origin: parent
        ? `http://${formatAuthority(parent.host, parent.port)}`
        : `http://${formatAuthority(flow.address, target.port)}`,
      method,
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

function authorityOf(target: ParsedTarget): string {
  return formatAuthority(target.host, target.port);
}
