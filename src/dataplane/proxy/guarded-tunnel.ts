/**
 * The end of the request path shared by CONNECT, SOCKS5 and transparent mode, once the flow
 * has dialled exactly the admitted address: for proxy tunnels (and redirected ones admitted by
 * address) peek the client's first bytes and refuse a TLS ClientHello, or an HTTP Host, naming
 * what the policy would not allow (domain fronting); then intercept (inspect mode) or join the
 * two sockets, and end the flow with the tunnel's byte counts.
 */
import type { Socket } from 'node:net';
import { realNameRefusal, sniRefusal } from '../../policy/engine/fronting.js';
import { normaliseHost } from '../../policy/normalise/host.js';
import type { ByteReader } from '../net/byte-reader.js';
import { destinationSettled } from '../protocols/first-bytes.js';
import { parseHttpHead } from '../protocols/http-head.js';
import { hostHeaderTarget } from '../protocols/http-target.js';
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from '../protocols/tls-client-hello.js';
import type { RequestFlow } from './request-flow.js';
import { runTunnel } from './tunnel.js';

/**
 * The client has been told the tunnel is open (its verdict waits: flow.admit(true)). Waits for
 * its first bytes (letting a server-first protocol such as SSH speak meanwhile); a ClientHello
 * naming a server the policy would not allow gets a TLS access_denied alert and the upstream
 * never sees a byte. With `checkHost` (a tunnel admitted by its address alone), an HTTP request
 * whose Host the policy would not allow is refused the same way, with a 403. In monitor mode
 * both are recorded as the verdict (wouldDeny) and let through.
 */
export async function tunnelCheckingFirstBytes(
  flow: RequestFlow,
  socket: Socket,
  upstream: Socket,
  reader: ByteReader,
  checkHost = false,
): Promise<void> {
  const { limits, inspect } = flow.flows;
  const maxHead = limits.maxHeaderBytes;
  const early = forwardServerFirst(upstream, socket);
  await reader.fill(
    checkHost
      ? (bytes) => destinationSettled(bytes, maxHead)
      : (bytes) => parseClientHello(bytes).kind !== 'need-more',
    limits.headersTimeoutMs,
    checkHost ? Math.max(maxHead, MAX_CLIENT_HELLO_BYTES) : MAX_CLIENT_HELLO_BYTES,
  );
  const earlyBytesIn = early.stop();
  const hello = parseClientHello(reader.bytes);
  const compiled = flow.compiled;
  if (compiled && hello.kind === 'client-hello' && hello.serverName !== null) {
    const refusal = sniRefusal(compiled, flow.target, hello.serverName);
    if (refusal && !refusal.allowed) {
      upstream.destroy();
      flow.medium = 'tls';
      await flow.refuse(refusal);
      return;
    }
    if (refusal) flow.confirm(refusal);
  }
  const head = checkHost && compiled ? parseHttpHead(reader.bytes, maxHead) : null;
  if (compiled && head?.kind === 'request' && head.host !== undefined) {
    const real = hostHeaderTarget(head.host, flow.target.port)?.host;
    const what = `HTTP Host "${head.host}"`;
    const refusal = realNameRefusal(compiled, flow.target, real, 'host_mismatch', what);
    if (refusal && !refusal.allowed) {
      upstream.destroy();
      flow.medium = 'raw-http';
      await flow.refuse(refusal);
      return;
    }
    if (refusal) flow.confirm(refusal);
  }
  flow.confirm();
  const decision = flow.decision!;
  if (inspect && decision.mode === 'inspect' && hello.kind === 'client-hello' && compiled) {
    const sni = hello.serverName === null ? undefined : normaliseHost(hello.serverName);
    flow.kind = 'inspected';
    await inspect.intercept({
      socket,
      pending: reader.bytes,
      upstream,
      flow,
      name: sni?.ok ? sni.host.name : decision.destination.host,
      port: flow.target.port,
      address: decision.destination.ip ?? decision.destination.host,
    });
    return;
  }
  await relay(flow, socket, upstream, reader.bytes, earlyBytesIn);
}

/**
 * While the client's first bytes are awaited, whatever the server sends first (an SSH banner)
 * goes to the client, with backpressure; an upstream that ends first ends the client too.
 * Lighter than a pipe()/unpipe() pair, which most tunnels (client speaks first) never use.
 * `stop()` ends it and says how many bytes it passed on (they count in request.closed).
 */
function forwardServerFirst(upstream: Socket, socket: Socket): { stop(): number } {
  let bytes = 0;
  const resume = () => upstream.resume();
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (!socket.write(chunk)) {
      upstream.pause();
      socket.once('drain', resume);
    }
  };
  const onEnd = () => socket.end();
  upstream.on('data', onData);
  upstream.once('end', onEnd);
  return {
    stop: () => {
      upstream.off('data', onData);
      upstream.off('end', onEnd);
      socket.off('drain', resume);
      upstream.pause();
      return bytes;
    },
  };
}

/**
 * Joins the sockets (replaying `pending`, client bytes already read, first) and ends the flow
 * with the tunnel's counts; `earlyBytesIn` came from upstream before the relay (a banner).
 * Every tunnel ends here: CONNECT, SOCKS5, transparent and upgrades.
 */
export async function relay(
  flow: RequestFlow,
  socket: Socket,
  upstream: Socket,
  pending: Buffer,
  earlyBytesIn = 0,
): Promise<void> {
  socket.resume();
  const result = await runTunnel(socket, upstream, flow.flows.limits.idleTimeoutMs, pending);
  flow.end(result.bytesIn + earlyBytesIn, result.bytesOut, 0, result.error ?? '');
}
