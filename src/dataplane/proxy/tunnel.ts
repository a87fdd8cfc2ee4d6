/**
 * A byte tunnel between a client socket and an upstream socket, with idle timeout and byte
 * counts, ending both sides together. Used by CONNECT, upgrades, SOCKS5 and transparent mode.
 */
import type { Socket } from 'node:net';
import { upstreamReadsOf } from '../net/upstream-reads.js';

export interface TunnelResult {
  bytesIn: number;
  bytesOut: number;
  error?: string;
}

/**
 * Pipes `client` ⇄ `upstream`. `pending` is client data already read (sent first). Resolves when
 * both sides are closed.
 */
export function runTunnel(
  client: Socket,
  upstream: Socket,
  idleTimeoutMs: number,
  pending?: Buffer,
): Promise<TunnelResult> {
  return new Promise((resolve) => {
    // Byte counts from the sockets' own counters (no 'data' listener on the relay path). Bytes
    // already read but still buffered in the stream are relayed below, so they count.
    const clientStart = client.bytesRead - client.readableLength;
    const upstreamStart = upstream.bytesRead - upstream.readableLength;
    let error: string | undefined;
    let closed = 0;
    const done = () => {
      if (++closed < 2) return;
      const bytesIn = upstream.bytesRead - upstreamStart;
      const bytesOut = (pending?.length ?? 0) + client.bytesRead - clientStart;
      resolve({ bytesIn, bytesOut, ...(error ? { error } : {}) });
    };
    const onError = (side: string) => (err: Error) => {
      error ??= `${side}: ${err.message}`;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', onError('client'));
    upstream.on('error', onError('upstream'));
    // A side that closed before the relay started (a drain destroyed the client while its first
    // bytes were awaited) has no 'close' left to emit: count it now and end the other side, or
    // that side stays open, and keeps the process alive, until its peer hangs up.
    for (const [side, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      if (side.closed) {
        other.destroy();
        process.nextTick(done);
      } else side.on('close', done);
    }
    // A client that is gone (destroyed by a drain or a reset) can receive nothing more: release
    // the upstream connection now instead of when the destination times it out.
    client.on('close', () => upstream.destroy());
    // When the upstream is gone, the client may be paused waiting for a drain that never comes;
    // keep it reading, or its FIN is never read and it never closes (the data is dropped).
    upstream.on('close', () => client.resume());
    client.setTimeout(idleTimeoutMs, () => {
      error ??= 'idle timeout';
      client.destroy();
      upstream.destroy();
    });
    upstream.setTimeout(0);
    // Activity upstream also keeps the tunnel alive: what upstream sends is written to the
    // client, and a socket's writes restart its idle timer just as its reads do.
    if (pending?.length) upstream.write(pending);
    forward(client, upstream);
    forward(upstream, client);
  });
}

/**
 * `from.pipe(to)` reduced to what a tunnel needs (two listeners instead of pipe()'s seven, and
 * no unpipe bookkeeping per tunnel): backpressure, and `from`'s end ends `to`. Once `to` is
 * destroyed, what `from` still sends is read and dropped, so its FIN is seen and it closes.
 */
function forward(from: Socket, to: Socket): void {
  // An upstream with its own read buffer writes to `to` itself; 'data' then only carries
  // what it read before (nothing, usually) and 'end' still ends `to`.
  upstreamReadsOf(from)?.relayTo(to);
  const resume = () => from.resume();
  from.on('data', (chunk: Buffer) => {
    if (to.destroyed) return;
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', resume);
    }
  });
  // Usually `to` is already gone by then (its peer closed first): end() on a destroyed socket
  // builds an error with a stack trace, the costliest step of a short tunnel's teardown.
  from.once('end', () => {
    if (!to.destroyed && !to.writableEnded) to.end();
  });
  from.resume();
}
