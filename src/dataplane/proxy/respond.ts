/** Writing denials and failures to HTTP responses and raw sockets. */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Admission } from './gate.js';
import { denyResponse, failureResponse, rawResponse, type DenyText } from './deny-response.js';
import type { Identification } from './client-identity.js';

export function refusalText(
  admission: Extract<Admission, { ok: false }>,
  accessHint?: string,
): DenyText {
  if (admission.status === 403 && admission.decision)
    return denyResponse(admission.decision, accessHint);
  return failureResponse(admission.status, admission.reason, admission.message);
}

export function authText(id: Extract<Identification, { ok: false }>): DenyText {
  const text = failureResponse(407, id.reason, id.message);
  text.headers['Proxy-Authenticate'] = 'Basic realm="egress"';
  return text;
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
