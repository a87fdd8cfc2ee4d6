/**
 * What `egress run` (outside) and the sandbox bridge (inside the namespaces) say to each other
 * over node's IPC channel. The bridge binds the sandbox's loopback listeners inside the new
 * network namespace and hands the listening sockets over (SCM_RIGHTS): the outer process
 * accepts on them directly, so traffic never takes an extra relay hop, and every decision is
 * made by the same proxy and DNS code as `egress proxy`.
 *
 * This file is imported by the bridge, whose start-up time is the sandbox's: types and
 * constants only, no imports.
 */

/** Ports the bridge binds inside the sandbox (on every sandbox address; loopback only exists). */
export const INNER_PORTS = {
  /** HTTP forward proxy, CONNECT and SOCKS5 (sniffed on one port): the proxy variables. */
  proxy: 15001,
  /** Transparent entrance for redirected TCP to port 80 (HTTP, named by Host). */
  transparent80: 15080,
  /** Transparent entrance for redirected TCP to port 443 (TLS, named by SNI). */
  transparent443: 15443,
  /** Every other redirected TCP port: the original port is not known (HTTP Host tells it). */
  transparentOther: 15000,
  /** Policy-aware DNS, UDP and TCP; /etc/resolv.conf points here. */
  dns: 53,
} as const;

/** An address on the sandbox's loopback that gives outbound packets a source (see netns). */
export const SANDBOX_SOURCE_V4 = '198.18.0.1';
export const SANDBOX_SOURCE_V6 = 'fd00:e9e5::1';

/** A path hidden from the command: an empty tmpfs over a folder, /dev/null over a file. */
export interface HiddenPath {
  path: string;
  kind: 'dir' | 'file';
  /** Defence in depth only (a resolver socket): a failure is a warning, not an error. */
  optional?: boolean;
}

/** A UDP destination the policy allows, relayed through its own port inside the sandbox. */
export interface UdpRelayTarget {
  ip: string;
  port: number;
  family: 4 | 6;
  /** Port on the sandbox's loopback that nftables redirects this destination to. */
  relayPort: number;
}

/** outer → bridge, first message: everything the bridge needs. */
export interface BridgeConfig {
  type: 'config';
  command: string[];
  env: Record<string, string>;
  cwd: string;
  /** The caller's uid and gid, which the command runs as (a nested user namespace). */
  uid: number;
  gid: number;
  /** Bind-mounted over /etc/resolv.conf. */
  resolvConf: string;
  hide: HiddenPath[];
  /** Seconds between reads of the dropped-UDP set while the command runs (0 = only at exit). */
  udpPollSeconds: number;
  /** UDP destinations to redirect to relay sockets (handed over like the listeners). */
  udpRelays: UdpRelayTarget[];
}

/** outer → bridge: the handed-over listeners are adopted; run the command. */
export interface BridgeStart {
  type: 'start';
}

/** outer → bridge: deliver this signal to the command. */
export interface BridgeSignal {
  type: 'signal';
  signal: NodeJS.Signals;
}

/**
 * outer → bridge: a listening socket on the host (sent as the message's handle); connections
 * to it are relayed to `port` on the sandbox's loopback (--publish).
 */
export interface BridgePublish {
  type: 'publish';
  port: number;
}

export type ToBridge = BridgeConfig | BridgeStart | BridgeSignal | BridgePublish;

export type ListenerRole =
  | { role: 'proxy' }
  | { role: 'transparent'; originalPort?: number }
  | { role: 'dns-udp' }
  | { role: 'dns-tcp' }
  | { role: 'udp-relay'; index: number };

/** One dropped UDP destination: what nftables recorded (address, port, packets). */
export interface DroppedUdp {
  ip: string;
  port: number;
  packets: number;
}

/** bridge → outer: one listening socket (sent with the message as its handle). */
export type BridgeListener = { type: 'listener' } & ListenerRole;

/** bridge → outer: all listeners sent; what the sandbox could not set up. */
export interface BridgeReady {
  type: 'ready';
  warnings: string[];
  /** True when nftables redirects direct TCP and records dropped UDP. */
  redirect: boolean;
}

/** bridge → outer: the setup failed; nothing was run. */
export interface BridgeFailed {
  type: 'failed';
  message: string;
}

/** bridge → outer: new dropped-UDP entries (cumulative counts) while the command runs. */
export interface BridgeUdp {
  type: 'udp';
  dropped: DroppedUdp[];
}

/** bridge → outer: the command ended (the bridge exits next, taking the namespace with it). */
export interface BridgeExit {
  type: 'exit';
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started (not found, not executable). */
  spawnError?: string;
  dropped: DroppedUdp[];
}

export type FromBridge = BridgeListener | BridgeReady | BridgeFailed | BridgeUdp | BridgeExit;
