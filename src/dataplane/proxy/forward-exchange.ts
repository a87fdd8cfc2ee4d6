/**
 * One forwarded plain-HTTP exchange, as an undici dispatch handler: the upstream answer is
 * streamed to the client's ServerResponse with backpressure, hop-by-hop headers removed, and the
 * exchange ends its RequestFlow exactly once (request.closed or request.failed, with byte counts).
 *
 * undici's dispatcher (instead of node:http's ClientRequest) halves the proxy's CPU per
 * forwarded request: no ClientRequest/IncomingMessage objects, no header objects, raw header
 * arrays end to end.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ExchangeRecorder } from '../inspect/capture.js';
import { dialErrorFrom } from '../net/dial.js';
import { endToEndRawHeaders } from '../protocols/http-headers.js';
import { failureText, writeText } from '../responses/render.js';
import type { RequestFlow } from './request-flow.js';

export class ForwardExchange implements Dispatcher.DispatchHandler {
  private bytesIn = 0;
  private bytesOut = 0;
  private status = 0;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private settled = false;

  constructor(
    private readonly flow: RequestFlow,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly recorder: ExchangeRecorder | null,
  ) {
    res.on('close', this.onClientClose);
  }

  /** The client's request body, counted (and captured in inspect mode) as it streams upstream. */
  async *requestBody(): AsyncGenerator<Buffer> {
    for await (const chunk of this.req as AsyncIterable<Buffer>) {
      this.bytesOut += chunk.length;
      this.recorder?.request.add(chunk);
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
    if (this.recorder) this.recorder.onResponse(status, headerObject(headers));
    this.res.writeHead(status, statusText, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytesIn += chunk.length;
    this.recorder?.response.add(chunk);
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(): void {
    this.res.end();
    this.finish(this.status, undefined);
  }

  onError(err: Error): void {
    const flow = this.flow;
    // The upstream request was aborted because the client left (onClientClose): its failure.
    if (this.clientLeft) return this.finish(0, 'client_aborted');
    const failure = dialErrorFrom(err, `${flow.decision!.destination.host}:${flow.target.port}`);
    this.finish(0, failure.code);
    if (!this.res.destroyed) writeText(this.res, failureText(failure.code, failure.message));
  }

  /** Set when the client left before the answer was complete. */
  private clientLeft = false;

  private readonly onDrain = (): void => this.resumeUpstream?.();

  /** A client that leaves before the answer is complete releases the upstream request. */
  private readonly onClientClose = (): void => {
    if (!this.res.writableFinished && !this.settled) this.clientLeft = true;
    if (!this.res.writableFinished && !this.settled)
      this.abortUpstream?.(
        Object.assign(new Error('the client went away'), { code: 'ECONNRESET' }),
      );
  };

  private finish(
    status: number,
    failure: ReturnType<typeof dialErrorFrom>['code'] | 'client_aborted' | undefined,
  ): void {
    if (this.settled) return;
    this.settled = true;
    const flow = this.flow;
    if (this.recorder && flow.flows.bus.active) {
      const decision = flow.decision!;
      flow.record(
        this.recorder.event(
          flow.client,
          decision,
          {
            host: decision.destination.host,
            ip: flow.address,
            port: flow.target.port,
            transport: 'tcp',
            scheme: 'http',
          },
          failure,
        ),
      );
    }
    if (failure === 'client_aborted')
      flow.noteFailure(failure, 'The client went away before the answer was complete.');
    else if (failure) flow.noteFailure(failure, `The upstream failed: ${failure}`);
    flow.end(this.bytesIn, this.bytesOut, status);
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
