/**
 * A parent (upstream) proxy: destinations the policy lists in `viaUpstreamProxy` (SDS custom
 * endpoints) are reached through it. Tunnels use CONNECT host:port to the parent; plain HTTP
 * is forwarded in absolute form. The parent resolves the name, so egress does no lookup for them.
 */
import type { Socket } from 'node:net';
import { dial, DialError } from './dial.js';

export interface ParentProxy {
  host: string;
  port: number;
  /** `Proxy-Authorization` to send, from user:password in the URL. */
  authorization?: string;
  /** As given, without credentials, for logs. */
  display: string;
}

/** Largest CONNECT answer head accepted from the parent. */
const MAX_HEAD_BYTES = 16 * 1024;

/** `http://[user:password@]host:port`; throws Error with a plain message otherwise. */
export function parseParentProxy(text: string): ParentProxy {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--upstream-proxy "${text}" is not a URL; write http://HOST:PORT`);
  }
  if (url.protocol !== 'http:')
    throw new Error(
      `--upstream-proxy "${text}" must start with http:// (the parent is an HTTP proxy)`,
    );
  if (!url.port) throw new Error(`--upstream-proxy "${text}" needs a port: http://HOST:PORT`);
  if (url.pathname !== '/' || url.search || url.hash)
    throw new Error(`--upstream-proxy "${text}" must be just http://HOST:PORT, without a path`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const user = decodeURIComponent(url.username);
  const authorization = user
    ? `Basic ${Buffer.from(`${user}:${decodeURIComponent(url.password)}`).toString('base64')}`
    : undefined;
  return {
    host,
    port: Number(url.port),
    ...(authorization ? { authorization } : {}),
    display: `http://${url.host}`,
  };
}

/** Opens a tunnel to host:port through the parent; the socket carries the destination's bytes. */
export async function connectThroughParent(
  parent: ParentProxy,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<Socket> {
  const socket = await dial(parent.host, parent.port, timeoutMs);
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  socket.write(
    `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n` +
      (parent.authorization ? `Proxy-Authorization: ${parent.authorization}\r\n` : '') +
      '\r\n',
  );
  try {
    const { status, rest } = await readHead(socket, timeoutMs, parent.display);
    if (status !== 200) {
      socket.destroy();
      throw new DialError(
        status === 504 ? 'upstream_timeout' : 'upstream_error',
        `the parent proxy ${parent.display} refused CONNECT ${authority} with HTTP ${status}`,
      );
    }
    if (rest.length) socket.unshift(rest);
    return socket;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function readHead(
  socket: Socket,
  timeoutMs: number,
  display: string,
): Promise<{ status: number; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES) {
          cleanup();
          reject(
            new DialError('upstream_error', `the parent proxy ${display} sent an oversized answer`),
          );
        }
        return;
      }
      cleanup();
      socket.pause();
      const m = /^HTTP\/1\.[01] ([0-9]{3})/.exec(buf.subarray(0, end).toString('latin1'));
      if (!m) {
        reject(new DialError('upstream_error', `the parent proxy ${display} did not answer HTTP`));
        return;
      }
      resolve({ status: Number(m[1]), rest: buf.subarray(end + 4) });
    };
    const onClose = () => {
      cleanup();
      reject(new DialError('upstream_error', `the parent proxy ${display} closed the connection`));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new DialError('upstream_error', `the parent proxy ${display} failed: ${err.message}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new DialError(
          'upstream_timeout',
          `the parent proxy ${display} did not answer CONNECT within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
  });
}
