/**
 * What a connection's first bytes say about where the client wants to go: the TLS server name
 * (SNI) of a ClientHello, or the Host header of a plain HTTP request. Used where a connection
 * arrives without a proxy protocol (transparent mode) and where a tunnel's first bytes are
 * checked against its admission (fronting). Pure: bytes in, facts out.
 */
import { parseHttpHead } from './http-head.js';
import { parseClientHello } from './tls-client-hello.js';

/** What the first bytes say about where the client wants to go. */
export type PeekedDestination =
  | { protocol: 'tls'; host: string | null }
  | { protocol: 'http'; host: string | null }
  | { protocol: 'unknown'; host: null };

/** True once the bytes are enough to tell (a whole ClientHello or a whole request head). */
export function destinationSettled(bytes: Buffer, maxHeadBytes: number): boolean {
  const hello = parseClientHello(bytes);
  if (hello.kind !== 'not-tls') return hello.kind !== 'need-more';
  return parseHttpHead(bytes, maxHeadBytes).kind !== 'need-more';
}

export function peekDestination(bytes: Buffer, maxHeadBytes: number): PeekedDestination {
  const hello = parseClientHello(bytes);
  if (hello.kind === 'client-hello') return { protocol: 'tls', host: hello.serverName };
  if (hello.kind !== 'not-tls') return { protocol: 'tls', host: null };
  const head = parseHttpHead(bytes, maxHeadBytes);
  if (head.kind === 'request') return { protocol: 'http', host: head.host ?? null };
  if (head.kind === 'malformed') return { protocol: 'http', host: null };
  return { protocol: 'unknown', host: null };
}
