/**
 * One port for HTTP proxying and SOCKS5: the first byte a client sends tells them apart (SOCKS5
 * greetings start with 0x05; no HTTP method does). A CONNECT head that arrived whole in that
 * first read and is plainly well-formed goes straight to the tunnel handler (connect-head.ts):
 * node:http's parser and request objects would cost a tunnel more than its admission does.
 *
 * node:http attaches its parser in its own `connection` listener, so that listener is taken off
 * the server and called here only once the first byte has shown an HTTP client. The byte is
 * put back (unshift) before node:http sees the socket; from then on node:http reads the socket
 * natively, so the cost is one read per connection, nothing per request. The http server keeps
 * listening on the port itself, so its header and request timeouts and idle-connection
 * tracking work as before.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { parseConnectHead } from '../protocols/connect-head.js';
import { SOCKS_VERSION } from '../protocols/socks5-messages.js';
import type { ConnectRequest } from './connect-tunnel.js';

const ASCII_C = 0x43;

export type SocketHandler = (socket: Socket) => void;

/** Removes node:http's own connection listener from `server` and returns it, bound. */
export function takeHttpConnectionListener(server: Server): SocketHandler {
  const listeners = server.listeners('connection');
  if (listeners.length !== 1)
    throw new Error('takeHttpConnectionListener must run before other connection listeners');
  const listener = listeners[0] as (this: Server, socket: Socket) => void;
  server.removeListener('connection', listener);
  return (socket) => listener.call(server, socket);
}

export interface SniffRoutes {
  http: SocketHandler;
  socks5: (socket: Socket, head: Buffer) => void;
  /** A CONNECT head that arrived whole and plainly well-formed (connect-head.ts); `rest` follows it. */
  connect: (socket: Socket, request: ConnectRequest, rest: Buffer) => void;
  /** node:http's head limit: a longer head is left to node:http, which answers 431. */
  maxHeadBytes: number;
}

/** Waits for the first bytes (up to `timeoutMs`) and hands the socket to HTTP or SOCKS5. */
export function routeByFirstByte(socket: Socket, timeoutMs: number, routes: SniffRoutes): void {
  const cleanup = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onGone);
    socket.off('error', onGone);
    socket.off('close', cleanup);
  };
  const onData = (chunk: Buffer) => {
    cleanup();
    socket.pause();
    if (chunk[0] === SOCKS_VERSION) {
      routes.socks5(socket, chunk);
      return;
    }
    if (chunk[0] === ASCII_C) {
      const head = parseConnectHead(chunk, routes.maxHeadBytes);
      if (head.kind === 'connect') {
        const request = { target: head.target, proxyAuthorization: head.proxyAuthorization };
        routes.connect(socket, request, chunk.subarray(head.headLength));
        return;
      }
    }
    socket.unshift(chunk);
    routes.http(socket);
    socket.resume();
  };
  // A client that connects and says nothing (or leaves) holds no request: close it.
  const onGone = () => {
    cleanup();
    socket.destroy();
  };
  const timer = setTimeout(onGone, timeoutMs);
  socket.on('data', onData);
  socket.once('end', onGone);
  socket.once('error', onGone);
  // Destroyed before it spoke (a drain ended it): nothing to route, and no timer left to keep
  // the process alive for the rest of timeoutMs.
  socket.once('close', cleanup);
}
