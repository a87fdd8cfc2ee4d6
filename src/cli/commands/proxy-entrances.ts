/**
 * The proxy's other entrances, from `--socks-listen HOST:PORT` and (repeatable)
 * `--transparent-listen HOST:PORT[=ORIGINAL_PORT]`. Parsed before anything starts (bad flags
 * exit 2), started after the main listener on the same gate.
 */
import { startListening } from '../../dataplane/net/listen.js';
import type { Logger } from 'pino';
import type { EgressProxy } from '../../dataplane/proxy/proxy-server.js';
import { Socks5Server } from '../../dataplane/proxy/socks5.js';
import { parseTransparentListen, TransparentListener } from '../../dataplane/proxy/transparent.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { parseListen } from './proxy-options.js';

export interface EntranceFlags {
  socksListen?: string;
  transparentListen?: string[];
}

export type Entrance =
  | { kind: 'socks5'; host: string; port: number }
  | { kind: 'transparent'; host: string; port: number; originalPort?: number };

export function parseEntrances(flags: EntranceFlags): Entrance[] {
  const entrances: Entrance[] = [];
  if (flags.socksListen)
    entrances.push({ kind: 'socks5', ...parseListen(flags.socksListen, '--socks-listen') });
  for (const text of flags.transparentListen ?? []) {
    const parsed = parseTransparentListen(text);
    if (!parsed)
      throw new UsageError(
        `--transparent-listen "${text}" must look like HOST:PORT or HOST:PORT=ORIGINAL_PORT (e.g. 127.0.0.1:15001=443)`,
      );
    entrances.push({ kind: 'transparent', ...parsed });
  }
  return entrances;
}

export async function startEntrances(
  proxy: EgressProxy,
  entrances: Entrance[],
  log: Logger,
  io: Io,
): Promise<void> {
  for (const e of entrances) {
    const listener =
      e.kind === 'socks5'
        ? new Socks5Server(proxy.context, e.host, e.port)
        : new TransparentListener(proxy.context, e.host, e.port, e.originalPort);
    proxy.attach(listener);
    const flag = e.kind === 'socks5' ? '--socks-listen' : '--transparent-listen';
    const address = await startListening(flag, `${e.host}:${e.port}`, () => listener.start());
    const shown =
      address.family === 'IPv6'
        ? `[${address.address}]:${address.port}`
        : `${address.address}:${address.port}`;
    const mapped =
      e.kind === 'transparent'
        ? e.originalPort
          ? ` (original port ${e.originalPort})`
          : ' (TLS 443, HTTP Host port or 80)'
        : '';
    log.info({ listen: shown, entrance: e.kind }, `egress ${e.kind} listening`);
    io.err(`egress ${e.kind} listening on ${shown}${mapped}\n`);
  }
}
