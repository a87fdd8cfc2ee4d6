/**
 * A Refusal rendered in the client's own medium: an HTTP response (a ServerResponse or raw bytes
 * on a socket), a SOCKS5 reply, or a TLS alert. The code decides what is said (protocol/refusals.ts):
 * a denial is the 403 page built from its decision, a failure a short text with its status.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { codeSpec, type FailureCode, type Refusal } from '../../protocol/refusals.js';
import { TLS_ACCESS_DENIED_ALERT } from '../protocols/tls-client-hello.js';
import { denyResponse, failureResponse, rawResponse, type DenyText } from './deny-response.js';

/** A failure's text: the status from the registry. */
export function failureText(code: FailureCode, message: string): DenyText {
  return failureResponse(codeSpec(code).status ?? 502, code, message);
}

/** The HTTP answer to a refusal. */
export function refusalText(refusal: Refusal, accessHint?: string): DenyText {
  const spec = codeSpec(refusal.code);
  if (spec.status === 403 && refusal.decision) return denyResponse(refusal.decision, accessHint);
  const text = failureResponse(spec.status ?? 502, refusal.code, refusal.message);
  if (spec.status === 407) text.headers['Proxy-Authenticate'] = 'Basic realm="egress"';
  return text;
}

/** True for a refusal by policy or identity (403, 407), false for a failure to serve. */
export function isDenial(refusal: Refusal): boolean {
  const status = codeSpec(refusal.code).status;
  return status === 403 || status === 407;
}

export function writeText(res: ServerResponse, text: DenyText): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(text.status, text.headers);
  res.end(text.body);
}

export function writeRaw(socket: Socket, text: DenyText): void {
  if (socket.destroyed) return;
  socket.end(rawResponse(text));
}

/** Sends `bytes` (a SOCKS reply, a TLS alert) and closes once they are written. */
export function endWith(socket: Socket, bytes: Buffer): void {
  if (socket.destroyed) return;
  socket.end(bytes);
  socket.destroySoon();
}

/** A TLS fatal access_denied alert, then close: the client's TLS stack reports a clear error. */
export function refuseTls(socket: Socket): void {
  endWith(socket, TLS_ACCESS_DENIED_ALERT);
}
