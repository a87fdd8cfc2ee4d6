/**
 * Builds the DNS forwarder for `egress proxy --dns-listen`: upstreams from `--dns-upstream`
 * (repeatable) or else the nameservers of /etc/resolv.conf, never the listener itself (a
 * sandbox whose resolv.conf points at us would otherwise ask itself forever).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { EventBus } from '../events/event-bus.js';
import type { PolicyProvider } from '../proxy/client-identity.js';
import { DnsCache } from './dns-cache.js';
import {
  DnsForwarder,
  nameserversFromResolvConf,
  parseUpstream,
  type Upstream,
} from './dns-forwarder.js';
import { PolicyDnsServer } from './dns-server.js';

export interface DnsSetup {
  listen: { host: string; port: number };
  /** `--dns-upstream` values; empty = /etc/resolv.conf. */
  upstreams: readonly string[];
  policies: PolicyProvider;
  pins: ReadonlyMap<string, readonly string[]>;
  bus: EventBus;
  log: Logger;
  resolvConfPath?: string;
}

export function upstreamsFor(
  setup: Pick<DnsSetup, 'listen' | 'upstreams' | 'resolvConfPath'>,
): Upstream[] {
  let upstreams: Upstream[];
  if (setup.upstreams.length) {
    upstreams = setup.upstreams.map(parseUpstream);
  } else {
    const path = setup.resolvConfPath ?? '/etc/resolv.conf';
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      // No resolv.conf: reported below as "no upstream".
    }
    upstreams = nameserversFromResolvConf(text);
  }
  const self = (u: Upstream) => u.host === setup.listen.host && u.port === setup.listen.port;
  upstreams = upstreams.filter((u) => !self(u));
  if (upstreams.length === 0)
    throw new Error(
      'the DNS forwarder has no upstream resolver: pass --dns-upstream HOST[:PORT] (or list a nameserver in /etc/resolv.conf)',
    );
  return upstreams;
}

export function createDnsServer(setup: DnsSetup): PolicyDnsServer {
  return new PolicyDnsServer({
    ...setup.listen,
    policies: setup.policies,
    forwarder: new DnsForwarder({ upstreams: upstreamsFor(setup) }),
    cache: new DnsCache(),
    pins: setup.pins,
    bus: setup.bus,
    log: setup.log,
  });
}
