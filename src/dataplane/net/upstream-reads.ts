/**
 * Upstream sockets of tunnels that read into one buffer of their own (node's `onread` option)
 * instead of a fresh 64 KiB buffer per read.
 *
 * Why: in a bulk download every read used to allocate a buffer that was freed a moment later;
 * glibc then kept giving the top of its heap back to the kernel and taking it again (a third
 * of the proxy's CPU went to page faults), and 64 KiB per read meant four times the syscalls
 * of a 256 KiB read. With a reused buffer the relay reads 256 KiB at a time and allocates
 * nothing.
 *
 * The buffer is reused, so a read must be consumed before the next one lands in it:
 * - until the tunnel relays (while the client's first bytes are awaited), each read is copied
 *   and pushed into the socket like node would, so 'data', pause() and 'end' work as usual;
 * - once relaying, each read is written straight to the client; if the client's socket cannot
 *   take it at once, the write still points into the buffer, so reading stops until 'drain'.
 *
 * Memory and cost per tunnel: buffers come from a pool and go back when the socket closes (a
 * fresh 256 KiB allocation per tunnel costs more than a short tunnel's whole relay). The kernel
 * backs only the pages a read touched, so an idle tunnel that carried a small response costs a
 * page or two of its buffer.
 */
import type { Socket } from 'node:net';

export const UPSTREAM_READ_BUFFER_BYTES = 256 * 1024;

const READS = Symbol('egress.upstreamReads');

type WithReads = Socket & { [READS]?: UpstreamReads };

/** Read buffers of closed upstream sockets, kept for the next ones (at most `max`). */
export class ReadBufferPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly max = 64) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(UPSTREAM_READ_BUFFER_BYTES);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.max) this.free.push(buffer);
  }
}

export class UpstreamReads {
  private socket: Socket | null = null;
  private to: Socket | null = null;
  private readonly resume = () => this.socket?.resume();

  /** The `onread` option for net.connect(). */
  readonly onread: { buffer: Buffer; callback: (bytes: number, buffer: Buffer) => boolean };

  constructor(private readonly pool: ReadBufferPool) {
    this.onread = {
      buffer: pool.take(),
      callback: (bytes, buffer) => this.onRead(buffer.subarray(0, bytes)),
    };
  }

  /** Ties this reader to the socket created with its `onread`; the buffer returns on close. */
  attach(socket: Socket): void {
    this.socket = socket;
    (socket as WithReads)[READS] = this;
    socket.once('close', () => this.pool.give(this.onread.buffer));
  }

  /**
   * From now on every read goes straight to `to`. Refused (false) while earlier reads still
   * wait in the socket's own buffer: writing new ones first would reorder the bytes.
   */
  relayTo(to: Socket): boolean {
    if (!this.socket || this.socket.readableLength > 0) return false;
    this.to = to;
    return true;
  }

  private onRead(chunk: Buffer): boolean {
    const socket = this.socket;
    if (!socket) return true;
    const to = this.to;
    // Before relaying: behave like a plain socket (a copy, since the buffer is reused).
    if (to === null) return socket.push(Buffer.from(chunk));
    // The client is gone: drop, but keep reading so the upstream's FIN is seen.
    if (to.destroyed) return true;
    to.write(chunk);
    if (to.writableLength === 0) return true;
    // The write is pending and still points into the buffer: no read until it is flushed.
    to.once('drain', this.resume);
    return false;
  }
}

/** The reader of a socket dialed with one, if any. */
export function upstreamReadsOf(socket: Socket): UpstreamReads | undefined {
  return (socket as WithReads)[READS];
}
