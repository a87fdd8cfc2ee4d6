/** What every protocol handler of one proxy shares. */
import type { ForwardUpstream } from './forward-upstream.js';
import type { Logger } from 'pino';
import type { EventBus } from '../events/event-bus.js';
import type { ParentProxy } from '../net/parent-proxy.js';
import type { PolicyProvider } from './client-identity.js';
import type { Gate } from './gate.js';
import type { Interceptor } from '../inspect/interceptor.js';
import type { ReadBufferPool } from '../net/upstream-reads.js';

export interface ProxyLimits {
  /** Largest request head accepted (bytes). */
  maxHeaderBytes: number;
  /** Time to establish the upstream TCP connection. */
  connectTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed. */
  idleTimeoutMs: number;
  /** A client must finish sending its request head within this time (slowloris). */
  headersTimeoutMs: number;
  /** Connections beyond this get 503 and are closed. */
  maxConnections: number;
}

export const DEFAULT_LIMITS: ProxyLimits = {
  maxHeaderBytes: 32 * 1024,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  headersTimeoutMs: 15_000,
  maxConnections: 20_000,
};

export interface ProxyContext {
  gate: Gate;
  policies: PolicyProvider;
  bus: EventBus;
  limits: ProxyLimits;
  accessHint?: string;
  /** Keep-alive pools for plain-HTTP upstream requests (one per dialled IP:port origin). */
  upstream: ForwardUpstream;
  /** Read buffers for tunnels' upstream sockets (reused from tunnel to tunnel). */
  readBuffers: ReadBufferPool;
  log: Logger;
  /** TLS interception for policies in inspect mode. */
  inspect?: Interceptor;
  /** Where `viaUpstreamProxy` destinations are sent (`--upstream-proxy`). */
  parentProxy?: ParentProxy;
}
