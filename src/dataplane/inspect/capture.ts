/**
 * What an inspected exchange records: method, URL, status, both header sets and the first
 * `maxBodyCapture` bytes of each body — redacted before the event is built. Compressed bodies
 * (gzip, deflate, br) are decompressed from the captured prefix; bodies that are not UTF-8
 * text are not recorded (their size is), because redaction patterns cannot see into them.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import {
  brotliDecompressSync,
  constants,
  gunzipSync,
  inflateRawSync,
  inflateSync,
} from 'node:zlib';
import type { Decision } from '../../policy/index.js';
import type { ClientContext, EventDestination, EventInput } from '../../protocol/audit-event.js';
import { Redactor, type RecordedHeaders } from './redact.js';

/** Keeps the first `limit` bytes of a stream and counts all of them. */
export class BodyCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.kept >= this.limit) return;
    const part = chunk.subarray(0, this.limit - this.kept);
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export interface RecordedBody {
  /** Bytes that crossed the proxy (as sent, i.e. compressed if it was). */
  bytes: number;
  /** True when the body was longer than what is recorded. */
  truncated: boolean;
  /** The recorded text, redacted; absent when `omitted` says why. */
  text?: string;
  /** The content encoding that was undone to record `text`. */
  decoded?: string;
  omitted?: string;
}

/** Undoes a content encoding on a (possibly cut) prefix; null for an unknown encoding. */
function decode(buf: Buffer, encoding: string, limit: number): Buffer | null {
  const maxOutputLength = Math.max(limit * 64, 1 << 20);
  const flush = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength };
  switch (encoding) {
    case '':
    case 'identity':
      return buf;
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(buf, flush);
    case 'deflate':
      try {
        return inflateSync(buf, flush);
      } catch {
        return inflateRawSync(buf, flush);
      }
    case 'br':
      return brotliDecompressSync(buf, {
        finishFlush: constants.BROTLI_OPERATION_FLUSH,
        maxOutputLength,
      });
    default:
      return null;
  }
}

/** UTF-8 text, tolerating a character cut in half at the capture limit; null if binary. */
function utf8(buf: Buffer, cut: boolean): string | null {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let trim = 0; trim <= (cut ? 3 : 0) && trim <= buf.length; trim++) {
    try {
      return decoder.decode(buf.subarray(0, buf.length - trim));
    } catch {
      // try again without the last byte(s)
    }
  }
  return null;
}

export function renderBody(
  capture: BodyCapture,
  contentEncoding: string | undefined,
  limit: number,
  redactor: Redactor,
): RecordedBody {
  const bytes = capture.total;
  if (bytes === 0) return { bytes, truncated: false, text: '' };
  if (limit <= 0) return { bytes, truncated: true, omitted: 'maxBodyCapture is 0' };
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  let plain: Buffer | null;
  try {
    plain = decode(capture.bytes, encoding, limit);
  } catch {
    return { bytes, truncated: bytes > limit, omitted: `could not decode ${encoding}` };
  }
  if (plain === null) return { bytes, truncated: bytes > limit, omitted: `encoding ${encoding}` };
  const cut = bytes > limit || plain.length > limit;
  const text = utf8(plain.subarray(0, limit), cut);
  if (text === null) return { bytes, truncated: cut, omitted: 'binary (not UTF-8 text)' };
  return {
    bytes,
    truncated: cut,
    text: redactor.text(text),
    ...(encoding && encoding !== 'identity' ? { decoded: encoding } : {}),
  };
}

/** The `http` field of an inspect.exchange event. */
export interface InspectedHttp {
  method: string;
  url: string;
  path: string;
  status?: number;
  request: { headers: RecordedHeaders; body: RecordedBody };
  /** Null when no response arrived (see the event's reason). */
  response: { headers: RecordedHeaders; body: RecordedBody } | null;
}

export interface ExchangeStart {
  method: string;
  /** `https://host[:port]/path?query` as the client asked for it. */
  url: string;
  path: string;
  headers: IncomingHttpHeaders | OutgoingHttpHeaders;
}

export interface RecordingPolicy {
  redact: readonly string[];
  maxBodyCapture: number;
}

/** One HTTP exchange being watched; `event()` turns it into a redacted inspect.exchange. */
export class ExchangeRecorder {
  readonly request: BodyCapture;
  readonly response: BodyCapture;
  private status: number | undefined;
  private responseHeaders: IncomingHttpHeaders | undefined;
  private readonly started = performance.now();

  constructor(
    private readonly policy: RecordingPolicy,
    private readonly start: ExchangeStart,
  ) {
    this.request = new BodyCapture(policy.maxBodyCapture);
    this.response = new BodyCapture(policy.maxBodyCapture);
  }

  onResponse(status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    this.responseHeaders = headers;
  }

  event(
    client: ClientContext,
    decision: Decision,
    destination: EventDestination,
    failure?: string,
  ): EventInput {
    const redactor = new Redactor(this.policy.redact);
    const limit = this.policy.maxBodyCapture;
    const url = redactor.text(this.start.url);
    const path = redactor.text(this.start.path);
    const requestHeaders: RecordedHeaders = redactor.headers(this.start.headers);
    const response = this.responseHeaders
      ? {
          headers: redactor.headers(this.responseHeaders),
          body: renderBody(
            this.response,
            header(this.responseHeaders['content-encoding']),
            limit,
            redactor,
          ),
        }
      : null;
    const http: InspectedHttp = {
      method: this.start.method,
      url,
      path,
      ...(this.status !== undefined ? { status: this.status } : {}),
      request: {
        headers: requestHeaders,
        body: renderBody(
          this.request,
          header(this.start.headers['content-encoding']),
          limit,
          redactor,
        ),
      },
      response,
    };
    return {
      type: 'inspect.exchange',
      client,
      decision,
      destination,
      ...(failure ? { reason: failure } : {}),
      http: { ...http },
      bytesOut: this.request.total,
      bytesIn: this.response.total,
      durationMs: Math.round(performance.now() - this.started),
      description: failure
        ? `${this.start.method} ${url} failed: ${failure}.`
        : `${this.start.method} ${url} answered ${this.status ?? 'without a status'}.`,
    };
  }
}

function header(value: string | string[] | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : String(value);
}
