/**
 * The proxy's other entrances, from `--socks-listen HOST:PORT` and (repeatable)
 * `--transparent-listen HOST:PORT[=ORIGINAL_PORT]`. Parsed before anything starts (bad flags
 * exit 2); started by the runtime (dataplane/node/proxy-entrances.ts).
 */
import type { Entrance } from '../../dataplane/node/proxy-node-options.js';
import { parseTransparentListen } from '../../dataplane/proxy/transparent.js';
import { UsageError } from '../errors.js';
import { parseListen } from './proxy-options.js';

export interface EntranceFlags {
  socksListen?: string;
  transparentListen?: string[];
}

export type { Entrance };

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
