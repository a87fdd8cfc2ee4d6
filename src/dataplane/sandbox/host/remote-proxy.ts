/**
 * `egress run --proxy URL`: the sandbox uses an `egress proxy` that is already running instead
 * of starting one. The sandbox's proxy port is passed through byte for byte (HTTP, CONNECT and
 * SOCKS5 all reach the running proxy, credentials in the proxy variables included); redirected
 * connections of programs that ignore the variables are named by SNI or Host here and sent
 * as a CONNECT to the running proxy, which decides them. Decisions and events are the running
 * proxy's: this process records none for TCP.
 */
import { connect, type Socket } from 'node:net';
import { ByteReader } from '../../net/byte-reader.js';
import { MAX_CLIENT_HELLO_BYTES } from '../../protocols/tls-client-hello.js';
import { destinationSettled, peekDestination } from '../../protocols/first-bytes.js';
import { transparentTarget } from '../../proxy/transparent.js';

const MAX_HEAD = 64 * 1024;
const HEAD_TIMEOUT_MS = 10_000;

export interface RemoteProxyAddress {
  host: string;
  port: number;
  /** `user:password` from the URL, sent as Proxy-Authorization on CONNECTs made here. */
  auth?: string;
  /** The URL as the command's proxy variables should carry it (credentials kept). */
  url: string;
}

export function parseProxyUrl(text: string): RemoteProxyAddress {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `http://${text}`);
  } catch {
    throw new Error(`--proxy ${text}: not a URL (write http://HOST:PORT)`);
  }
  if (url.protocol !== 'http:')
    throw new Error(`--proxy ${text}: only http:// proxies are supported`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 80);
  const auth = url.username
    ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
    : undefined;
  return { host, port, ...(auth ? { auth } : {}), url: url.href.replace(/\/$/, '') };
}

/** Either side closing closes the other. */
function pair(a: Socket, b: Socket): void {
  a.once('close', () => b.destroy());
  b.once('close', () => a.destroy());
}

export class RemoteProxy {
  private readonly sockets = new Set<Socket>();

  constructor(private readonly address: RemoteProxyAddress) {}

  /** The sandbox's proxy port: relayed unchanged. */
  serve(socket: Socket): void {
    this.track(socket);
    const upstream = this.dial();
    pair(socket, upstream);
    socket.pipe(upstream).pipe(socket);
    socket.resume();
  }

  /** A redirected connection: named from its first bytes, then CONNECTed through the proxy. */
  async transparent(socket: Socket, originalPort: number | undefined): Promise<void> {
    this.track(socket);
    const reader = new ByteReader(socket);
    await reader.fill(
      (bytes) => destinationSettled(bytes, MAX_HEAD),
      HEAD_TIMEOUT_MS,
      Math.max(MAX_HEAD, MAX_CLIENT_HELLO_BYTES),
    );
    const peeked = peekDestination(reader.bytes, MAX_HEAD);
    if (socket.destroyed || peeked.host === null) {
      socket.destroy();
      return;
    }
    const target = transparentTarget(peeked, originalPort);
    const authority = target.host.includes(':')
      ? `[${target.host}]:${target.port}`
      : `${target.host}:${target.port}`;
    const upstream = this.dial();
    pair(socket, upstream);
    const auth = this.address.auth
      ? `Proxy-Authorization: Basic ${Buffer.from(this.address.auth).toString('base64')}\r\n`
      : '';
    upstream.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
    const answer = new ByteReader(upstream);
    await answer.fill((b) => b.includes('\r\n\r\n'), HEAD_TIMEOUT_MS, MAX_HEAD);
    const head = answer.bytes;
    const end = head.indexOf('\r\n\r\n');
    if (end < 0 || !/^HTTP\/1\.[01] 2\d\d/.test(head.subarray(0, 16).toString('latin1'))) {
      // The running proxy's refusal: an HTTP client gets it as it is, TLS a plain close.
      if (peeked.protocol === 'http' && end >= 0) {
        upstream.pipe(socket);
        socket.write(head);
        upstream.resume();
      } else {
        upstream.destroy();
        socket.destroy();
      }
      return;
    }
    upstream.write(reader.bytes);
    const rest = head.subarray(end + 4);
    if (rest.length) socket.write(rest);
    socket.pipe(upstream).pipe(socket);
    socket.resume();
    upstream.resume();
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private dial(): Socket {
    const upstream = connect({ host: this.address.host, port: this.address.port });
    this.track(upstream);
    return upstream;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }
}
