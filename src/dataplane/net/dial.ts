/** Opens a TCP connection to exactly the address that was classified, with a timeout. */
import { connect, type Socket } from 'node:net';
import { EgressError } from '../../protocol/errors.js';
import { FAILURE_CODES } from '../../protocol/refusals.js';
import { UpstreamReads, type ReadBufferPool } from './upstream-reads.js';

export type DialErrorCode =
  'upstream_timeout' | 'upstream_refused' | 'upstream_unreachable' | 'upstream_error';

export class DialError extends EgressError<DialErrorCode> {
  override name = 'DialError';

  /** 504 for timeouts, 502 for everything else (DESIGN.md 3.6; protocol/refusals.ts). */
  get status(): number {
    return FAILURE_CODES[this.code].status!;
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
