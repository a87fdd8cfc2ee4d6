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
  /**
   * Every other redirected TCP port: each connection's original address and port are read back
   * from the nftables map its SYN wrote (TCP_ORIGIN_MAPS, rules/netns-rules.ts). Only under the
   * iptables fallback, which keeps no such map, does the HTTP Host (or TLS SNI) tell it.
   */
  transparentOther: 15000,
  /** Policy-aware DNS, UDP and TCP; /etc/resolv.conf points here. */
  dns: 53,
  /**
   * The UDP relay (127.0.0.1 and ::1), bound when the policy has UDP allow rules: nftables
   * redirects the UDP those rules may allow here and records each datagram's original
   * destination in a map (rules/netns-rules.ts).
   */
  udpRelay: 15100,
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

/**
 * One UDP allow selector as nftables matches it: datagrams it may allow go to the UDP relay,
 * which decides each new flow with the whole policy. A superset is fine, a gap is not.
 */
export interface UdpRelayMatch {
  family: 4 | 6;
  /** Canonical addresses or CIDRs of that family; null = any address (a port-only rule). */
  addresses: string[] | null;
  /** Merged port ranges; null = every port. Port 53 is never relayed (it is DNS). */
  ports: Array<{ from: number; to: number }> | null;
}

/**
 * Where a redirected UDP datagram or TCP connection was going, read back from the nft maps by
 * its source port (the UDP relay's maps, or the catch-all TCP entrance's).
 */
export interface OriginEntry {
  sport: number;
  ip: string;
  port: number;
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
  /** UDP that goes to the relay socket (handed over like the listeners); empty = no relay. */
  udpRelay: UdpRelayMatch[];
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
 * outer → bridge: a socket bound on the host (sent as the message's handle): a TCP listener or
 * a UDP socket. Its traffic is relayed to `port` on the sandbox's loopback (--publish).
 */
export interface BridgePublish {
  type: 'publish';
  port: number;
  hostPort: number;
  transport: 'tcp' | 'udp';
}

/** outer → bridge: one TCP connection to a published port, accepted before the hand-over. */
export interface BridgePublishConnection {
  type: 'publish-connection';
  port: number;
  hostPort: number;
}

/**
 * outer → bridge: read the original-destination maps of one family: the UDP relay's (`udp`) or
 * the catch-all TCP entrance's (`tcp`).
 */
export interface BridgeOriginRequest {
  type: 'origins';
  id: number;
  family: 4 | 6;
  proto: 'udp' | 'tcp';
}

export type ToBridge =
  | BridgeConfig
  | BridgeStart
  | BridgeSignal
  | BridgePublish
  | BridgePublishConnection
  | BridgeOriginRequest;

export type ListenerRole =
  | { role: 'proxy' }
  | { role: 'transparent'; originalPort?: number }
  | { role: 'dns-udp' }
  | { role: 'dns-tcp' }
  | { role: 'udp-relay'; family: 4 | 6 };

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

/** bridge → outer: the answer to a BridgeOriginRequest (`error` when nft could not be read). */
export interface BridgeOrigins {
  type: 'origins';
  id: number;
  family: 4 | 6;
  proto: 'udp' | 'tcp';
  entries: OriginEntry[];
  error?: string;
}

/**
 * bridge → outer: one step of a published (inbound) TCP connection or UDP flow, recorded as an
 * ingress.* event. `id` ties the steps of one connection together. Bytes are counted from the
 * sandbox's side, as for outbound traffic: in = from the peer into the sandbox.
 */
export interface BridgeIngress {
  type: 'ingress';
  phase: 'accepted' | 'refused' | 'closed';
  id: number;
  transport: 'tcp' | 'udp';
  /** The sandbox's port, and the host port it is published on. */
  port: number;
  hostPort: number;
  peer: { address: string; port: number };
  /** The sandbox address the traffic was delivered to (127.0.0.1 or ::1). */
  inner?: string;
  /** Why it was refused: `nothing_listening`, `flow_limit`. */
  reason?: string;
  bytesIn?: number;
  bytesOut?: number;
  durationMs?: number;
}

export type FromBridge =
  | BridgeListener
  | BridgeReady
  | BridgeFailed
  | BridgeUdp
  | BridgeExit
  | BridgeOrigins
  | BridgeIngress;
