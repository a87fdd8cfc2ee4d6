/**
 * Start and stop a TCP (or HTTP) server as promises. listenServer rejects on a bind error such
 * as EADDRINUSE instead of leaving it to an 'error' event nobody listens to, and removes its
 * error listener once bound so a later error is not mistaken for a failed start.
 */
import type { AddressInfo, Server } from 'node:net';
import { RuntimeFailure } from '../errors.js';

export function listenServer(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Stops accepting and resolves once every connection has ended. Callers that must not wait
 * for idle clients destroy their sockets (or call closeAllConnections) after calling this.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * The one line a failed bind becomes (`--dns-listen 127.0.0.1:53: cannot listen: the port is in
 * use`), for whoever starts a listener from a flag: a RuntimeFailure (exit 1), never a stack.
 */
export function listenFailure(flag: string, address: string, err: unknown): RuntimeFailure {
  const e = err as NodeJS.ErrnoException;
  const why =
    e.code === 'EADDRINUSE'
      ? 'the port is in use (choose another port, or stop the program holding it)'
      : e.code === 'EACCES'
        ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)'
        : e.code === 'EADDRNOTAVAIL'
          ? 'no interface has this address'
          : e.message;
  return new RuntimeFailure(`${flag} ${address}: cannot listen: ${why}`);
}

/** Runs `start`, turning a bind error into listenFailure's line. */
export async function startListening<T>(
  flag: string,
  address: string,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof RuntimeFailure) throw err;
    throw listenFailure(flag, address, err);
  }
}
