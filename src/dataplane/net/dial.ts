/** Opens a TCP connection to exactly the address that was classified, with a timeout. */
import { connect, type Socket } from 'node:net';
import { UpstreamReads, type ReadBufferPool } from './upstream-reads.js';

export type DialErrorCode =
  'upstream_timeout' | 'upstream_refused' | 'upstream_unreachable' | 'upstream_error';

export class DialError extends Error {
  override name = 'DialError';
  constructor(
    readonly code: DialErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** 504 for timeouts, 502 for everything else (DESIGN.md 3.6). */
  get status(): number {
    return this.code === 'upstream_timeout' ? 504 : 502;
  }
}

/** undici's names for a connect, response-head or body timeout (the forward path uses undici). */
const UNDICI_TIMEOUTS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function dialErrorFrom(err: unknown, target: string): DialError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED')
    return new DialError('upstream_refused', `${target} refused the connection`);
  if (code === 'ETIMEDOUT' || (code !== undefined && UNDICI_TIMEOUTS.has(code)))
    return new DialError('upstream_timeout', `${target} did not answer in time`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return new DialError('upstream_unreachable', `${target} is unreachable (${code})`);
  return new DialError(
    'upstream_error',
    `connecting to ${target} failed: ${(err as Error).message}`,
  );
}

/**
 * Connects to `ip:port`. With `readBuffers`, the socket reads into a buffer of its own from
 * that pool (upstream-reads.ts): for tunnels whose bytes egress only relays, not for TLS it
 * terminates.
 */
export function dial(
  ip: string,
  port: number,
  timeoutMs: number,
  options: { readBuffers?: ReadBufferPool } = {},
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const reads = options.readBuffers ? new UpstreamReads(options.readBuffers) : null;
    const socket = connect({
      host: ip,
      port,
      noDelay: true,
      ...(reads ? { onread: reads.onread } : {}),
    });
    reads?.attach(socket);
    const target = `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new DialError(
          'upstream_timeout',
          `${target} did not accept the connection within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(dialErrorFrom(err, target));
    });
  });
}
