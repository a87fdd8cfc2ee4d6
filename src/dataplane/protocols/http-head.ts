/**
 * Peeks the head of a plain HTTP/1.x request (request line and headers) to learn the Host it
 * names, without consuming or changing anything: transparent mode judges the connection by it
 * and then replays the bytes unchanged. Pure: bytes in, facts out.
 */

export type HttpHeadResult =
  | { kind: 'need-more' }
  | { kind: 'not-http' }
  | { kind: 'malformed'; error: string }
  | {
      kind: 'request';
      method: string;
      target: string;
      version: string;
      /** The Host header's value, or undefined if there is none (HTTP/1.0). */
      host: string | undefined;
      /** Bytes up to and including the blank line. */
      headLength: number;
    };

const METHOD_PREFIX = /^[A-Z][A-Z-]{0,19}$/;
const REQUEST_LINE = /^([A-Z][A-Z-]{0,19}) (\S+) (HTTP\/1\.[01])$/;

/** Finds the end of the head (CRLF CRLF, or bare LF LF as lenient parsers accept). */
function headEnd(buf: Buffer): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}

export function parseHttpHead(buf: Buffer, maxHeadBytes = 32 * 1024): HttpHeadResult {
  if (buf.length === 0) return { kind: 'need-more' };
  const firstSpace = buf.indexOf(0x20);
  const method = buf.toString('latin1', 0, firstSpace >= 0 ? firstSpace : Math.min(buf.length, 21));
  if (!METHOD_PREFIX.test(method)) return { kind: 'not-http' };
  const end = headEnd(buf);
  if (end < 0)
    return buf.length >= maxHeadBytes
      ? { kind: 'malformed', error: `request head larger than ${maxHeadBytes} bytes` }
      : { kind: 'need-more' };
  const lines = buf.toString('latin1', 0, end).split(/\r?\n/);
  const line = REQUEST_LINE.exec(lines[0] ?? '');
  if (!line)
    return { kind: 'malformed', error: 'the request line is not "METHOD target HTTP/1.x"' };
  const hosts: string[] = [];
  for (const header of lines.slice(1)) {
    if (header === '') continue;
    const colon = header.indexOf(':');
    if (colon <= 0) return { kind: 'malformed', error: `header line without a name: "${header}"` };
    if (header.slice(0, colon).toLowerCase() === 'host') hosts.push(header.slice(colon + 1).trim());
  }
  // Two Host headers are how request smuggling and fronting start: never guess which one counts.
  if (hosts.length > 1) return { kind: 'malformed', error: 'more than one Host header' };
  return {
    kind: 'request',
    method: line[1]!,
    target: line[2]!,
    version: line[3]!,
    host: hosts[0] || undefined,
    headLength: end,
  };
}
