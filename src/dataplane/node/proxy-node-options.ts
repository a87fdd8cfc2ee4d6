/**
 * What the proxy runtime is given: checked values only. The CLI (`src/cli/commands/proxy-flags.ts`)
 * parses and checks every flag (bad values exit 2 with the flag named) and hands these over; the
 * runtime never sees a raw flag string it would have to validate.
 */
import type { LogLevel } from '../log.js';
import type { ParentProxy } from '../net/parent-proxy.js';
import type { ProxyLimits } from '../proxy/context.js';

/** Where the runtime writes its human-readable lines (stderr in the CLI, buffers in tests). */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** A listener besides the main HTTP/CONNECT one, on the same gate. */
export type Entrance =
  | { kind: 'socks5'; host: string; port: number }
  | { kind: 'transparent'; host: string; port: number; originalPort?: number };

/** The parsed flags. */
export interface ProxyFlags {
  listen: { host: string; port: number };
  entrances: Entrance[];
  pins: Map<string, string[]>;
  admin: { host: string; port: number } | null;
  dnsListen: { host: string; port: number } | null;
  parentProxy: ParentProxy | undefined;
  drainMs: number;
  limits: Partial<ProxyLimits>;
  workers: number;
}

/** The values the runtime reads as given (already checked, or free text). */
export interface ProxyNodeOptions {
  /** The --listen text, as shown in the proxy.started record. */
  listen: string;
  auditLog?: string;
  logLevel?: LogLevel;
  workspace?: string;
  accessHint?: string;
  stateDir?: string;
  upstreamCa?: string[];
  dnsUpstream?: string[];
}

/** What the runtime resolves with after a clean drain: the process exit code. */
export const DRAINED = 0;
