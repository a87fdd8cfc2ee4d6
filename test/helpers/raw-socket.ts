/**
 * Byte-level helpers for proxy tests: a raw TCP client that reads exact byte counts, a raw TCP
 * origin that records every connection and byte, and a TLS handshake that is expected to fail.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export class RawClient {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  send(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  /** Exactly `n` bytes, or fewer if the connection ends first. */
  async read(n: number, timeoutMs = 3000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length < n && !this.ended) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} bytes`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(out.length);
    return out;
  }

  /** Resolves once the peer has closed the connection. */
  async closed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A TCP server that records connections and bytes, and answers with `reply` if given. */
export interface RawOrigin {
  port: number;
  connections: number;
  received: Buffer[];
  close(): Promise<void>;
}

export async function startRawOrigin(host: string, reply?: Buffer): Promise<RawOrigin> {
  const sockets = new Set<Socket>();
  const origin: RawOrigin = { port: 0, connections: 0, received: [], close: async () => {} };
  const server: Server = createServer((socket) => {
    origin.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => origin.received.push(chunk));
    if (reply) socket.write(reply);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  origin.port = (server.address() as AddressInfo).port;
  origin.close = () =>
    new Promise<void>((resolve) => {
      sockets.forEach((s) => s.destroy());
      server.close(() => resolve());
    });
  return origin;
}

/**
 * Starts TLS over `socket` (e.g. an open tunnel) with SNI `servername`; resolves with the
 * handshake's error, or with an Error saying it succeeded. With `ca` the peer is verified
 * against it; without, any certificate is accepted, so only a refusal can fail the handshake.
 */
export function tlsHandshakeError(socket: Socket, servername: string, ca?: string): Promise<Error> {
  return new Promise((resolve) => {
    const tls = tlsConnect({
      socket,
      servername,
      ...(ca === undefined ? { rejectUnauthorized: false } : { ca }),
    });
    tls.on('error', resolve);
    tls.on('secureConnect', () => {
      tls.destroy();
      resolve(new Error('handshake unexpectedly succeeded'));
    });
  });
}
