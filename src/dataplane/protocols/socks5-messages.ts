/**
 * SOCKS5 messages (RFC 1928) and username/password authentication (RFC 1929), parsed from and
 * encoded to bytes. Pure: no sockets. Every parser takes the bytes received so far and says
 * whether it needs more, found a message (and how many bytes it used), or found garbage.
 */
import { ipv6FromGroups } from '../../policy/normalise/ip.js';

export const SOCKS_VERSION = 0x05;
const USER_PASS_VERSION = 0x01;

export const AUTH_METHOD = { none: 0x00, userPass: 0x02, noAcceptable: 0xff } as const;

export const COMMAND = { connect: 0x01, bind: 0x02, udpAssociate: 0x03 } as const;

export const COMMAND_NAMES: Record<number, string> = {
  [COMMAND.connect]: 'CONNECT',
  [COMMAND.bind]: 'BIND',
  [COMMAND.udpAssociate]: 'UDP ASSOCIATE',
};

export const REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowedByRuleset: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

const ATYP = { ipv4: 0x01, domain: 0x03, ipv6: 0x04 } as const;

export type Parsed<T> =
  | { kind: 'need-more' }
  | { kind: 'error'; error: string; reply?: number }
  | { kind: 'ok'; value: T; used: number };

const needMore = { kind: 'need-more' } as const;

export interface Greeting {
  methods: number[];
}

/** VER NMETHODS METHODS... */
export function parseGreeting(buf: Buffer): Parsed<Greeting> {
  if (buf.length < 1) return needMore;
  if (buf[0] !== SOCKS_VERSION)
    return { kind: 'error', error: `not SOCKS5 (version byte 0x${hex(buf[0]!)})` };
  if (buf.length < 2) return needMore;
  const count = buf[1]!;
  if (count === 0) return { kind: 'error', error: 'the greeting offers no authentication method' };
  if (buf.length < 2 + count) return needMore;
  return { kind: 'ok', value: { methods: [...buf.subarray(2, 2 + count)] }, used: 2 + count };
}

export interface UserPass {
  user: string;
  password: string;
}

/** RFC 1929: VER(1) ULEN UNAME PLEN PASSWD. */
export function parseUserPass(buf: Buffer): Parsed<UserPass> {
  if (buf.length < 1) return needMore;
  if (buf[0] !== USER_PASS_VERSION)
    return { kind: 'error', error: `username/password version 0x${hex(buf[0]!)} is not 0x01` };
  if (buf.length < 2) return needMore;
  const userLength = buf[1]!;
  if (buf.length < 3 + userLength) return needMore;
  const passwordLength = buf[2 + userLength]!;
  const end = 3 + userLength + passwordLength;
  if (buf.length < end) return needMore;
  return {
    kind: 'ok',
    value: {
      user: buf.toString('utf8', 2, 2 + userLength),
      password: buf.toString('utf8', 3 + userLength, end),
    },
    used: end,
  };
}

export interface SocksRequest {
  command: number;
  addressType: 'ipv4' | 'domain' | 'ipv6';
  /** Dotted quad, canonical IPv6 text, or the domain name as sent (socks5h). */
  host: string;
  port: number;
}

/** VER CMD RSV ATYP DST.ADDR DST.PORT. */
export function parseRequest(buf: Buffer): Parsed<SocksRequest> {
  if (buf.length < 1) return needMore;
  if (buf[0] !== SOCKS_VERSION)
    return { kind: 'error', error: `request version 0x${hex(buf[0]!)} is not 0x05` };
  if (buf.length < 5) return needMore;
  const command = buf[1]!;
  const atyp = buf[3]!;
  let host: string;
  let addressType: SocksRequest['addressType'];
  let p: number;
  if (atyp === ATYP.ipv4) {
    if (buf.length < 4 + 4 + 2) return needMore;
    host = [...buf.subarray(4, 8)].join('.');
    addressType = 'ipv4';
    p = 8;
  } else if (atyp === ATYP.ipv6) {
    if (buf.length < 4 + 16 + 2) return needMore;
    const groups: number[] = [];
    for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(4 + i * 2));
    host = ipv6FromGroups(groups).text;
    addressType = 'ipv6';
    p = 20;
  } else if (atyp === ATYP.domain) {
    const length = buf[4]!;
    if (length === 0)
      return { kind: 'error', error: 'empty domain name', reply: REPLY.hostUnreachable };
    if (buf.length < 5 + length + 2) return needMore;
    host = buf.toString('utf8', 5, 5 + length);
    addressType = 'domain';
    p = 5 + length;
  } else {
    return {
      kind: 'error',
      error: `address type 0x${hex(atyp)} is not supported`,
      reply: REPLY.addressTypeNotSupported,
    };
  }
  return {
    kind: 'ok',
    value: { command, addressType, host, port: buf.readUInt16BE(p) },
    used: p + 2,
  };
}

export function encodeMethodChoice(method: number): Buffer {
  return Buffer.from([SOCKS_VERSION, method]);
}

export function encodeUserPassResult(ok: boolean): Buffer {
  return Buffer.from([USER_PASS_VERSION, ok ? 0x00 : 0x01]);
}

/** A reply; `bound` is the proxy's address for the upstream connection (0.0.0.0:0 if unknown). */
export function encodeReply(code: number, bound?: { address: string; port: number }): Buffer {
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: answer with the IPv4 form.
  const address = (bound?.address ?? '0.0.0.0').replace(/^::ffff:(?=\d+\.)/i, '');
  const port = bound?.port ?? 0;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  let addr: Buffer;
  if (v4) addr = Buffer.from([ATYP.ipv4, ...v4.slice(1, 5).map(Number)]);
  else if (address.includes(':'))
    addr = Buffer.concat([Buffer.from([ATYP.ipv6]), ipv6Bytes(address)]);
  else addr = Buffer.from([ATYP.ipv4, 0, 0, 0, 0]);
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  return Buffer.concat([Buffer.from([SOCKS_VERSION, code, 0x00]), addr, portBytes]);
}

/** 16 bytes of an IPv6 text address (`::` expanded); zeros if it does not parse. */
function ipv6Bytes(text: string): Buffer {
  const out = Buffer.alloc(16);
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff))
    return out;
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
