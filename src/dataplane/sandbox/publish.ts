/**
 * `egress run --publish [IP:]HOST_PORT:PORT`: inbound connections to the host's HOST_PORT are
 * forwarded into the sandbox's PORT (a server the command runs). `egress run` binds the host
 * port (so a busy port fails before anything runs) and hands the listening socket to the
 * bridge, which accepts on it and connects to the port on the sandbox's loopback: one relay,
 * inside the namespaces.
 *
 * Only what the policy's ingress rules allow is published. A policy without an ingress section
 * (every format but Fly's and native `ingress:`) says nothing about inbound traffic, so what
 * the user asks for is published; with one, its default and allow list decide.
 */
import { createServer, type Server } from 'node:net';
import type { Ingress, Mode, PortRange } from '../../policy/model.js';

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
  if (transport === 'udp')
    throw new Error(`--publish ${spec}: only TCP can be published so far (drop the /udp)`);
  return {
    hostAddress: m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1',
    hostPort: portNumber(m[2]!, spec, true),
    port: portNumber(m[3]!, spec),
    transport,
    text: spec,
  };
}

function inRanges(port: number, ranges: readonly PortRange[] | undefined): boolean {
  return !ranges || ranges.some((r) => port >= r.from && port <= r.to);
}

/** Why the policy does not let `spec` in (naming the rule to add), or null when it does. */
export function ingressRefusal(
  ingress: Ingress | undefined,
  spec: PublishSpec,
  policyName: string,
): string | null {
  if (!ingress || ingress.default === 'allow') return null;
  const allowed = ingress.allow.some(
    (rule) =>
      (rule.transport === 'any' || rule.transport === spec.transport) &&
      inRanges(spec.port, rule.ports),
  );
  if (allowed) return null;
  return (
    `--publish ${spec.text}: policy "${policyName}" does not allow inbound ${spec.transport} to port ${spec.port}; ` +
    `to allow it, add to the policy: ingress: { allow: [{ ports: ${spec.port}, transport: ${spec.transport} }] }`
  );
}

/** Checks every spec; in monitor mode a refusal is only a warning (returned), else it throws. */
export function checkPublish(
  specs: readonly PublishSpec[],
  ingress: Ingress | undefined,
  mode: Mode,
  policyName: string,
): string[] {
  const warnings: string[] = [];
  for (const spec of specs) {
    const refusal = ingressRefusal(ingress, spec, policyName);
    if (!refusal) continue;
    if (mode !== 'monitor') throw new Error(refusal);
    warnings.push(`${refusal} (monitor mode: published anyway)`);
  }
  return warnings;
}

/** Binds the host side of one published port. */
export function listenPublished(spec: PublishSpec): Promise<Server> {
  const server = createServer({ pauseOnConnect: true });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `--publish ${spec.text}: cannot listen on ${spec.hostAddress}:${spec.hostPort}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`,
        ),
      ),
    );
    server.listen({ host: spec.hostAddress, port: spec.hostPort }, () => resolve(server));
  });
}
