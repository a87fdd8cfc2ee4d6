/**
 * Reads the server name (SNI) from the start of a TLS connection without terminating TLS, so a
 * CONNECT tunnel or a transparent connection can be judged by the name the client really asks
 * for. Handles a ClientHello split over several TCP segments or TLS records.
 */

export type ClientHelloResult =
  | { kind: 'need-more' }
  | { kind: 'not-tls' }
  | { kind: 'malformed'; error: string }
  | { kind: 'client-hello'; serverName: string | null };

const RECORD_HEADER = 5;
const HANDSHAKE_RECORD = 0x16;
const CLIENT_HELLO = 0x01;
const SNI_EXTENSION = 0x0000;
/** A ClientHello is rarely over 2 KB; anything past this is not one we will wait for. */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024 + RECORD_HEADER;

/** Gathers handshake bytes from consecutive handshake records. */
function handshakeBytes(buf: Buffer): { bytes: Buffer; complete: boolean } | 'not-tls' {
  const parts: Buffer[] = [];
  let offset = 0;
  let total = 0;
  let needed = -1;
  while (offset + RECORD_HEADER <= buf.length) {
    if (buf[offset] !== HANDSHAKE_RECORD)
      return offset === 0 ? 'not-tls' : { bytes: Buffer.concat(parts), complete: false };
    if (offset === 0 && buf[1] !== 0x03) return 'not-tls';
    const length = buf.readUInt16BE(offset + 3);
    const end = offset + RECORD_HEADER + length;
    const fragment = buf.subarray(offset + RECORD_HEADER, Math.min(end, buf.length));
    parts.push(fragment);
    total += fragment.length;
    if (needed < 0 && total >= 4) {
      const head = Buffer.concat(parts);
      needed = 4 + head.readUIntBE(1, 3);
    }
    if (needed >= 0 && total >= needed)
      return { bytes: Buffer.concat(parts).subarray(0, needed), complete: true };
    if (end > buf.length) break;
    offset = end;
  }
  if (buf.length > 0 && buf[0] !== HANDSHAKE_RECORD) return 'not-tls';
  return { bytes: Buffer.concat(parts), complete: false };
}

export function parseClientHello(buf: Buffer): ClientHelloResult {
  if (buf.length === 0) return { kind: 'need-more' };
  const gathered = handshakeBytes(buf);
  if (gathered === 'not-tls') return { kind: 'not-tls' };
  if (!gathered.complete)
    return buf.length >= MAX_CLIENT_HELLO_BYTES
      ? { kind: 'malformed', error: 'ClientHello too large' }
      : { kind: 'need-more' };
  const hs = gathered.bytes;
  if (hs[0] !== CLIENT_HELLO)
    return { kind: 'malformed', error: 'first handshake message is not a ClientHello' };
  try {
    let p = 4 + 2 + 32; // header, client_version, random
    p += 1 + hs.readUInt8(p); // session id
    p += 2 + hs.readUInt16BE(p); // cipher suites
    p += 1 + hs.readUInt8(p); // compression methods
    if (p >= hs.length) return { kind: 'client-hello', serverName: null };
    const extEnd = p + 2 + hs.readUInt16BE(p);
    p += 2;
    while (p + 4 <= extEnd) {
      const type = hs.readUInt16BE(p);
      const len = hs.readUInt16BE(p + 2);
      p += 4;
      if (type === SNI_EXTENSION) {
        let q = p + 2; // server_name_list length
        const listEnd = p + len;
        while (q + 3 <= listEnd) {
          const nameType = hs.readUInt8(q);
          const nameLen = hs.readUInt16BE(q + 1);
          q += 3;
          if (nameType === 0) {
            if (q + nameLen > listEnd)
              return { kind: 'malformed', error: 'server name runs past its extension' };
            return { kind: 'client-hello', serverName: hs.toString('latin1', q, q + nameLen) };
          }
          q += nameLen;
        }
        return { kind: 'malformed', error: 'SNI extension without a host name' };
      }
      p += len;
    }
    return { kind: 'client-hello', serverName: null };
  } catch {
    return { kind: 'malformed', error: 'truncated ClientHello' };
  }
}

/** A TLS fatal alert (access_denied), sent before closing a refused tunnel. */
export const TLS_ACCESS_DENIED_ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31]);
