/** Starts the proxy's other entrances (SOCKS5, transparent) after the main listener, on its gate. */
import { startListening } from '../net/listen.js';
import type { Logger } from 'pino';
import type { EgressProxy } from '../proxy/proxy-server.js';
import { Socks5Server } from '../proxy/socks5.js';
import { TransparentListener } from '../proxy/transparent.js';
import type { Entrance, Output } from './proxy-node-options.js';

export async function startEntrances(
  proxy: EgressProxy,
  entrances: Entrance[],
  log: Logger,
  io: Output,
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
