/** The limits every entrance of one proxy applies (and the defaults `egress proxy` starts with). */
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
