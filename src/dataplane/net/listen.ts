/**
 * Start and stop a TCP (or HTTP) server as promises. listenServer rejects on a bind error such
 * as EADDRINUSE instead of leaving it to an 'error' event nobody listens to, and removes its
 * error listener once bound so a later error is not mistaken for a failed start.
 */
import type { AddressInfo, Server } from 'node:net';

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
