/**
 * `egress run --publish [IP:]HOST_PORT:PORT[/udp]`: inbound traffic to the host's HOST_PORT is
 * forwarded into the sandbox's PORT (a server the command runs). `egress run` binds the host
 * port (so a busy port fails before anything runs) and hands the socket to the bridge, which
 * relays inside the namespaces (inside/publish-relay.ts): TCP connections, or UDP flows per sender.
 *
 * Only what the policy's ingress rules allow is published (decideIngress). A policy without an
 * ingress section (every format but Fly's and native `ingress:`) says nothing about inbound
 * traffic, so what the user asks for is published; with one, its default and allow list decide.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { decideIngress, type CompiledPolicy } from '../../../policy/index.js';

export interface PublishSpec {
  /** Host address to listen on (default 127.0.0.1: publishing to the network is explicit). */
  hostAddress: string;
  hostPort: number;
  port: number;
  transport: 'tcp' | 'udp';
  text: string;
}

function portNumber(text: string, spec: string, allowZero = false): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n > 65535 || (n === 0 && !allowZero))
    throw new Error(`--publish ${spec}: "${text}" is not a port (1-65535)`);
  return n;
}

/** `8080:8000`, `0.0.0.0:8080:8000`, `[::1]:8080:8000`, `8080:8000/tcp`. */
export function parsePublish(spec: string): PublishSpec {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+):)?([0-9]+):([0-9]+)(?:\/(tcp|udp))?$/.exec(spec);
  if (!m)
    throw new Error(
      `--publish ${spec}: write HOST_PORT:PORT (e.g. 8080:8000), optionally IP:HOST_PORT:PORT`,
    );
  const transport = (m[4] ?? 'tcp') as 'tcp' | 'udp';
  return {
    hostAddress: m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1',
    hostPort: portNumber(m[2]!, spec, true),
    port: portNumber(m[3]!, spec),
    transport,
    text: spec,
  };
}

/** Why the policy does not let `spec` in (naming the rule to add), or null when it does. */
export function ingressRefusal(compiled: CompiledPolicy, spec: PublishSpec): string | null {
  const decision = decideIngress(compiled, { port: spec.port, transport: spec.transport });
  if (decision.verdict === 'allow') return null;
  return (
    `--publish ${spec.text}: policy "${compiled.policy.name}" does not allow inbound ${spec.transport} to port ${spec.port}; ` +
    `to allow it, add to the policy: ingress: { allow: [{ ports: ${spec.port}, transport: ${spec.transport} }] }`
  );
}

/** Checks every spec; in monitor mode a refusal is only a warning (returned), else it throws. */
export function checkPublish(specs: readonly PublishSpec[], compiled: CompiledPolicy): string[] {
  const warnings: string[] = [];
  for (const spec of specs) {
    const refusal = ingressRefusal(compiled, spec);
    if (!refusal) continue;
    if (compiled.policy.mode !== 'monitor') throw new Error(refusal);
    warnings.push(`${refusal} (monitor mode: published anyway)`);
  }
  return warnings;
}

function listenError(spec: PublishSpec, err: NodeJS.ErrnoException): Error {
  const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.message;
  return new Error(
    `--publish ${spec.text}: cannot listen on ${spec.hostAddress}:${spec.hostPort}: ${why}`,
  );
}

export interface PublishedSocket {
  server: Server | UdpSocket;
  /**
   * TCP connections accepted here before the listener reached the bridge (the port listens
   * from the start, so a client may already connect): handed to the bridge one by one after
   * it, instead of hanging unserved. (Datagrams sent to a UDP port that early are lost, as UDP
   * may lose them anyway.)
   */
  early: Socket[];
}

/** Binds the host side of one published port: a TCP listener or a UDP socket. */
export function listenPublished(spec: PublishSpec): Promise<PublishedSocket> {
  return new Promise((resolve, reject) => {
    if (spec.transport === 'udp') {
      const socket = createSocket({ type: spec.hostAddress.includes(':') ? 'udp6' : 'udp4' });
      socket.once('error', (err) => reject(listenError(spec, err)));
      socket.bind(spec.hostPort, spec.hostAddress, () => resolve({ server: socket, early: [] }));
      return;
    }
    const early: Socket[] = [];
    const server = createServer({ pauseOnConnect: true }, (socket) => early.push(socket));
    server.once('error', (err) => reject(listenError(spec, err)));
    server.listen({ host: spec.hostAddress, port: spec.hostPort }, () =>
      resolve({ server, early }),
    );
  });
}
