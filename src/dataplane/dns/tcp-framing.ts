/**
 * DNS over TCP frames each message with a two-byte length (RFC 1035 4.2.2). readFrames() cuts a
 * byte stream into messages, however the stream was split into chunks.
 */
import type { Socket } from 'node:net';

export function readFrames(socket: Socket, onFrame: (frame: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const frame = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      onFrame(frame);
    }
  });
}

export function frame(message: Buffer): Buffer {
  const out = Buffer.alloc(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}
