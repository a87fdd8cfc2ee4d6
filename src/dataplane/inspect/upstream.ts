/**
 * The upstream side of an inspected tunnel: which CAs are trusted (Node's bundled roots, the
 * system bundle, and every `--upstream-ca` file), TLS to exactly the classified address with the
 * requested name as SNI, and a per-tunnel agent that keeps that connection alive for the
 * tunnel's exchanges (and reconnects to the same address if the upstream closes it).
 */
import { Agent, type ClientRequestArgs } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import {
  connect as tlsConnect,
  createSecureContext,
  rootCertificates,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import type { Duplex } from 'node:stream';

const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

/** The CAs an upstream certificate may chain to. Reads files once; throws if one is unreadable. */
export function upstreamTrust(
  extraCaFiles: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): SecureContext {
  const ca: string[] = [...rootCertificates];
  const system = [env.SSL_CERT_FILE, ...SYSTEM_BUNDLES].find((f) => f && existsSync(f));
  if (system) ca.push(readFileSync(system, 'utf8'));
  for (const file of extraCaFiles) ca.push(readFileSync(file, 'utf8'));
  return createSecureContext({ ca });
}

/**
 * Checks `--upstream-ca` files up front (readable, PEM certificates) without building a TLS
 * context: that costs ~40 ms of start-up and only inspect mode needs it, on first use.
 */
export function checkCaFiles(files: readonly string[]): void {
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----'))
      throw new Error(`${file} holds no PEM certificate`);
  }
}

/** True for certificate verification failures (as opposed to network or protocol errors). */
export function isCertificateError(err: unknown): boolean {
  const code = String((err as NodeJS.ErrnoException)?.code ?? '');
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return true;
  if (code.startsWith('ERR_')) return false;
  return /CERT|ISSUER|SIGNATURE|INVALID_CA|PATH_LENGTH|INVALID_PURPOSE|HOSTNAME/.test(code);
}

export interface UpstreamTarget {
  /** The classified address: the only place this tunnel connects to. */
  address: string;
  port: number;
  /** The name the upstream certificate must be valid for (SNI when it is not an IP). */
  name: string;
  trust: SecureContext;
  timeoutMs: number;
}

/** Starts TLS on `socket` (or a fresh connection) to the target; verifies the certificate. */
export function connectUpstreamTls(target: UpstreamTarget, socket?: Socket): TLSSocket {
  return tlsConnect({
    ...(socket ? { socket } : { host: target.address, port: target.port }),
    // checkServerIdentity is run against `servername || host`: the requested name, never the IP.
    ...(isIP(target.name) ? { host: target.name } : { servername: target.name }),
    secureContext: target.trust,
    ALPNProtocols: ['http/1.1'],
    rejectUnauthorized: true,
    timeout: target.timeoutMs,
  });
}

/**
 * An agent for one tunnel: its first socket is the TLS connection opened (and verified) when
 * the tunnel started; later ones go to the same address with the same checks.
 */
export class TunnelAgent extends Agent {
  private first: TLSSocket | undefined;

  constructor(
    private readonly target: UpstreamTarget,
    first: TLSSocket,
  ) {
    super({ keepAlive: true, maxSockets: 1, timeout: target.timeoutMs });
    this.first = first;
  }

  /** Returned synchronously: the agent treats the socket as created, errors arrive on it. */
  override createConnection(_options: ClientRequestArgs): Duplex {
    const ready = this.first;
    this.first = undefined;
    if (ready && !ready.destroyed) return ready;
    return connectUpstreamTls(this.target);
  }
}
