/**
 * Runs inside the namespaces (from the bridge): brings up the network namespace (ip), installs
 * the redirects and the UDP drop (nft, else iptables, else proxy variables only), points
 * /etc/resolv.conf at the sandbox DNS and hides paths the command must not read. Uses the
 * system tools because node cannot speak netlink or call mount(2).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  ipBatch,
  iptablesRuleset,
  nftRuleset,
  NFT_TABLE,
  ORIGIN_MAPS,
  TCP_ORIGIN_MAPS,
  UDP_SETS,
} from '../rules/netns-rules.js';
import { parseDroppedSet, parseOrigins } from './parse-nft.js';
import type { NftQueries } from './nft-queries.js';
import type { BridgeConfig, DroppedUdp, OriginEntry } from '../protocol.js';

export interface NamespaceSetup {
  ipv6: boolean;
  /** True when nftables redirects TCP and records dropped UDP. */
  redirect: boolean;
  /** True when nftables sends the UDP that allow rules name to the relay. */
  udpRelay: boolean;
  warnings: string[];
}

interface ToolResult {
  ok: boolean;
  missing: boolean;
  output: string;
}

/** Runs a tool with `input` on stdin; never rejects. */
function tool(file: string, args: string[], input = ''): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, missing: err.code === 'ENOENT', output: err.message }),
    );
    child.on('close', (code) => resolve({ ok: code === 0, missing: false, output: output.trim() }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

interface Redirects {
  redirect: boolean;
  udpRelay: boolean;
  warning?: string;
}

/**
 * The redirects for this configuration. The base ruleset (no UDP relay) was started with the
 * network, before the configuration came; a policy with UDP allow rules replaces it in one nft
 * transaction, so a failure leaves the base rules in place.
 */
async function installRedirects(
  ipv6: boolean,
  config: BridgeConfig,
  baseRules: Promise<ToolResult>,
): Promise<Redirects> {
  const relay = config.udpRelay.length > 0;
  const base = await baseRules;
  if (base.ok && !relay) return { redirect: true, udpRelay: false };
  if (base.ok) {
    const replace = `delete table inet ${NFT_TABLE}\n${nftRuleset(config.udpRelay)}`;
    const nft = await tool('nft', ['-f', '-'], replace);
    if (nft.ok) return { redirect: true, udpRelay: true };
    // An nft too old for the relay's maps still gives the rest: TCP redirects, UDP drops recorded.
    return {
      redirect: true,
      udpRelay: false,
      warning: `UDP allow rules are not relayed: nft refused the relay's rules (${nft.output}); their datagrams are dropped and recorded`,
    };
  }
  const v4 = await tool('iptables-restore', [], iptablesRuleset(4));
  if (v4.ok) {
    if (ipv6) await tool('ip6tables-restore', [], iptablesRuleset(6));
    return {
      redirect: false,
      udpRelay: false,
      warning:
        'nft is missing or failed, so iptables redirects direct TCP; dropped UDP is not recorded and UDP allow rules are not relayed (install nftables)',
    };
  }
  const why = base.missing && v4.missing ? 'neither nft nor iptables is installed' : base.output;
  return {
    redirect: false,
    udpRelay: false,
    warning: `programs that ignore the proxy variables cannot connect at all (${why}); install nftables so their TCP is redirected to the policy`,
  };
}

async function mountAll(config: BridgeConfig): Promise<string[]> {
  const warnings: string[] = [];
  const jobs: Array<Promise<void>> = [];
  if (existsSync('/etc/resolv.conf'))
    jobs.push(
      tool('mount', ['--bind', config.resolvConf, '/etc/resolv.conf']).then((r) => {
        if (!r.ok)
          warnings.push(`could not point /etc/resolv.conf at the sandbox DNS: ${r.output}`);
      }),
    );
  for (const hidden of config.hide) {
    const args =
      hidden.kind === 'dir'
        ? ['-t', 'tmpfs', '-o', 'size=4k,mode=0700', 'egress-hidden', hidden.path]
        : ['--bind', '/dev/null', hidden.path];
    jobs.push(
      tool('mount', args).then((r) => {
        if (r.ok) return;
        const message = `could not hide ${hidden.path} from the command: ${r.output}`;
        if (!hidden.optional) throw new Error(message);
        warnings.push(message);
      }),
    );
  }
  await Promise.all(jobs);
  return warnings;
}

export interface NetworkUp {
  ipv6: boolean;
  ip: ToolResult;
}

/** What needs no configuration, started as soon as the bridge runs (see startNamespace). */
export interface EarlyNamespace {
  network: Promise<NetworkUp>;
  /** nft with the base ruleset: redirects and UDP drops, no UDP relay. */
  baseRules: Promise<ToolResult>;
}

/**
 * `lo` up with the sandbox's addresses and routes, and the base nft ruleset, both at once. The
 * bridge starts them as soon as it runs, while `egress run` is still loading the policy, so
 * they are off the start-up's critical path. Never rejects; setUpNamespace() reports a failure.
 */
export function startNamespace(): EarlyNamespace {
  const ipv6 = existsSync('/proc/sys/net/ipv6/conf/lo');
  return {
    network: tool('ip', ['-force', '-batch', '-'], ipBatch(ipv6)).then((ip) => ({ ipv6, ip })),
    baseRules: tool('nft', ['-f', '-'], nftRuleset()),
  };
}

export async function setUpNamespace(
  config: BridgeConfig,
  early: EarlyNamespace = startNamespace(),
): Promise<NamespaceSetup> {
  const ipv6 = existsSync('/proc/sys/net/ipv6/conf/lo');
  const [{ ip }, redirects, mountWarnings] = await Promise.all([
    early.network,
    installRedirects(ipv6, config, early.baseRules),
    mountAll(config),
  ]);
  if (ip.missing)
    throw new Error('the ip command (iproute2) is missing: it is needed to bring up the sandbox');
  if (!ip.ok) throw new Error(`could not set up the sandbox network: ${ip.output}`);
  const warnings = [...mountWarnings];
  if (redirects.warning) warnings.push(redirects.warning);
  return { ipv6, redirect: redirects.redirect, udpRelay: redirects.udpRelay, warnings };
}

function list(nft: NftQueries, ...what: ['map', string] | ['table']): Promise<string> {
  return nft.list(['list', what[0], 'inet', NFT_TABLE, ...what.slice(1)].join(' '));
}

const DROP_SETS: ReadonlySet<string> = new Set([UDP_SETS.v4, UDP_SETS.v6]);

/** Every dropped UDP destination so far, with cumulative packet counts (one nft query). */
export async function readDroppedUdp(nft: NftQueries): Promise<DroppedUdp[]> {
  return parseDroppedSet(await list(nft, 'table'), DROP_SETS);
}

/**
 * Original destinations of one protocol and family, by source port (one nft query per map):
 * the UDP relay's datagrams, or TCP connections to the catch-all entrance.
 */
export async function readOrigins(
  nft: NftQueries,
  proto: 'udp' | 'tcp',
  family: 4 | 6,
): Promise<OriginEntry[]> {
  const maps = (proto === 'udp' ? ORIGIN_MAPS : TCP_ORIGIN_MAPS)[family];
  const [addr, port] = await Promise.all([
    list(nft, 'map', maps.addr),
    list(nft, 'map', maps.port),
  ]);
  return parseOrigins(addr, port);
}
