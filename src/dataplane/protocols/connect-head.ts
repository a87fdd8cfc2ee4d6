/**
 * The fast path for CONNECT heads. Nearly every tunnel starts with a small CONNECT head that
 * arrives whole in the connection's first read; for those, building node:http's parser,
 * IncomingMessage and 'connect' event costs more than the rest of the admission. This parser
 * takes only heads that are plainly well-formed and answers `other` for everything else, which
 * then goes to node:http exactly as before (its parser, its limits, its error answers). So it
 * never accepts a head node:http would refuse: it is narrower, never more lenient.
 * Pure: bytes in, facts out.
 */

export type ConnectHeadResult =
  | {
      kind: 'connect';
      /** The request target as written: `host:port` or `[v6]:port`. */
      target: string;
      /** The Proxy-Authorization header's value, if there is one. */
      proxyAuthorization: string | undefined;
      /** Bytes up to and including the blank line; what follows is tunnel data. */
      headLength: number;
    }
  /** Not a complete, plainly well-formed CONNECT head: let node:http read it. */
  | { kind: 'other' };

const OTHER: ConnectHeadResult = { kind: 'other' };
const PREFIX = 'CONNECT ';
/** Authority-form characters: names, IPv4, bracketed IPv6, the port. Nothing else. */
const TARGET = /^[A-Za-z0-9._~:[\]-]{1,300}$/;
/** RFC 9110 tchar. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** Visible ASCII, spaces and tabs: no control bytes, no obs-text. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Far above what CONNECT clients send; more headers than this go the general way. */
const MAX_HEADERS = 64;

export function parseConnectHead(buf: Buffer, maxHeadBytes: number): ConnectHeadResult {
  if (buf.length < PREFIX.length || buf.toString('latin1', 0, PREFIX.length) !== PREFIX)
    return OTHER;
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0 || end + 4 > maxHeadBytes) return OTHER;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  if (lines.length > MAX_HEADERS + 1) return OTHER;
  const requestLine = lines[0]!;
  const targetEnd = requestLine.indexOf(' ', PREFIX.length);
  if (targetEnd < 0) return OTHER;
  const version = requestLine.slice(targetEnd + 1);
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return OTHER;
  const target = requestLine.slice(PREFIX.length, targetEnd);
  if (!TARGET.test(target)) return OTHER;
  let proxyAuthorization: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return OTHER;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1);
    // A bare CR or LF, a NUL, obs-fold: how parsers are made to disagree. Not ours to judge.
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) return OTHER;
    const lower = name.toLowerCase();
    // A CONNECT with a body framing header is odd enough to leave to the general parser.
    if (lower === 'content-length' || lower === 'transfer-encoding') return OTHER;
    if (lower === 'proxy-authorization') {
      // Which of two credentials counts is a question we do not answer here.
      if (proxyAuthorization !== undefined) return OTHER;
      proxyAuthorization = value.trim();
    }
  }
  return { kind: 'connect', target, proxyAuthorization, headLength: end + 4 };
}
