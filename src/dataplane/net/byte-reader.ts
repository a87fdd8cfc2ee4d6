/**
 * Reads the first bytes of a connection before deciding what to do with it (SOCKS5 handshakes,
 * TLS ClientHello and HTTP head peeks). Bytes stay buffered here until taken or released, so
 * nothing a client sent is lost when the connection is later tunnelled.
 */
import type { Socket } from 'node:net';

export type FillResult = 'enough' | 'ended' | 'timeout' | 'too-large';

export class ByteReader {
  private buffer: Buffer;

  constructor(
    private readonly socket: Socket,
    head: Buffer = Buffer.alloc(0),
  ) {
    this.buffer = head;
  }

  /** Everything read and not yet taken. */
  get bytes(): Buffer {
    return this.buffer;
  }

  /**
   * Reads until `isEnough(bytes)` holds, the client ends, `timeoutMs` passes or more than
   * `maxBytes` are buffered. The socket is left paused.
   */
  fill(
    isEnough: (bytes: Buffer) => boolean,
    timeoutMs: number,
    maxBytes = 64 * 1024,
  ): Promise<FillResult> {
    if (isEnough(this.buffer)) return Promise.resolve('enough');
    if (this.buffer.length >= maxBytes) return Promise.resolve('too-large');
    if (this.socket.destroyed || this.socket.readableEnded) return Promise.resolve('ended');
    const socket = this.socket;
    return new Promise((resolve) => {
      const settle = (result: FillResult) => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onEnd);
        clearTimeout(timer);
        socket.pause();
        resolve(result);
      };
      const onData = (chunk: Buffer) => {
        this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
        if (isEnough(this.buffer)) settle('enough');
        else if (this.buffer.length >= maxBytes) settle('too-large');
      };
      const onEnd = () => settle('ended');
      const timer = setTimeout(() => settle('timeout'), timeoutMs);
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('close', onEnd);
      socket.resume();
    });
  }

  /** Removes the first `n` bytes (a message that has been handled). */
  take(n: number): void {
    this.buffer = this.buffer.subarray(n);
  }
}
