/**
 * One forwarded plain-HTTP exchange, as an undici dispatch handler: the upstream answer is
 * streamed to the client's ServerResponse with backpressure, hop-by-hop headers removed, and the
 * exchange ends in exactly one request.closed or request.failed event (with byte counts).
 *
 * undici's dispatcher (instead of node:http's ClientRequest) halves the proxy's CPU per
 * forwarded request: no ClientRequest/IncomingMessage objects, no header objects, raw header
 * arrays end to end.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { explain } from '../../policy/engine/explain.js';
import type { Decision } from '../../policy/index.js';
import type { ClientContext } from '../../protocol/audit-event.js';
import type { ExchangeRecorder } from '../inspect/capture.js';
import { dialErrorFrom } from '../net/dial.js';
import type { ProxyContext } from './context.js';
import { failureResponse } from './deny-response.js';
import { endToEndRawHeaders } from './headers.js';
import { writeText } from './respond.js';

export interface ForwardFacts {
  client: ClientContext;
  decision: Decision;
  /** The classified address dialled (or the destination name, through a parent proxy). */
  address: string;
  target: { host: string; port: number; path: string };
  /** When the request arrived (performance.now()). */
  started: number;
  recorder: ExchangeRecorder | null;
}

export class ForwardExchange implements Dispatcher.DispatchHandler {
  private bytesIn = 0;
  private bytesOut = 0;
  private status: number | undefined;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private settled = false;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly facts: ForwardFacts,
  ) {
    res.on('close', this.onClientClose);
  }

  /** The client's request body, counted (and captured in inspect mode) as it streams upstream. */
  async *requestBody(): AsyncGenerator<Buffer> {
    for await (const chunk of this.req as AsyncIterable<Buffer>) {
      this.bytesOut += chunk.length;
      this.facts.recorder?.request.add(chunk);
      yield chunk;
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    this.status = status;
    this.resumeUpstream = resume;
    const headers = endToEndRawHeaders(raw);
    if (this.facts.recorder) this.facts.recorder.onResponse(status, headerObject(headers));
    this.res.writeHead(status, statusText, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytesIn += chunk.length;
    this.facts.recorder?.response.add(chunk);
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(): void {
    this.res.end();
    this.finish(this.status);
  }

  onError(err: Error): void {
    const { decision, target } = this.facts;
    const failure = dialErrorFrom(err, `${decision.destination.host}:${target.port}`);
    this.finish(undefined, failure.code);
    if (!this.res.destroyed)
      writeText(this.res, failureResponse(failure.status, failure.code, failure.message));
  }

  private readonly onDrain = (): void => this.resumeUpstream?.();

  /** A client that leaves before the answer is complete releases the upstream request. */
  private readonly onClientClose = (): void => {
    if (!this.res.writableFinished && !this.settled)
      this.abortUpstream?.(
        Object.assign(new Error('the client went away'), { code: 'ECONNRESET' }),
      );
  };

  private finish(status: number | undefined, failure?: string): void {
    if (this.settled) return;
    this.settled = true;
    const { ctx, req, facts } = this;
    const { decision, target } = facts;
    if (!ctx.bus.active) return;
    if (facts.recorder)
      ctx.bus.emitLater(
        facts.recorder.event(
          facts.client,
          decision,
          {
            host: decision.destination.host,
            ip: facts.address,
            port: target.port,
            transport: 'tcp',
            scheme: 'http',
          },
          failure,
        ),
      );
    ctx.bus.emitLater({
      type: failure ? 'request.failed' : 'request.closed',
      client: facts.client,
      decision,
      ...(failure ? { reason: failure } : {}),
      http: { method: req.method ?? 'GET', path: target.path, ...(status ? { status } : {}) },
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      durationMs: Math.round(performance.now() - facts.started),
      description: failure
        ? `${explain(decision)} The upstream failed: ${failure}.`
        : `${req.method} http://${decision.destination.host}:${target.port}${target.path} answered ${status}.`,
    });
  }
}

/** Lower-cased header object (repeated names joined as node does) for the inspect recorder. */
function headerObject(flat: string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const value = flat[i + 1]!;
    const prior = out[name];
    if (prior === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prior)) prior.push(value);
    else out[name] = `${prior}, ${value}`;
  }
  return out as IncomingHttpHeaders;
}
