/**
 * TLS material for tests: a throwaway CA made at test time (ECDSA P-256, a few ms per key with
 * @peculiar/x509), leaves for any set of names, and HTTPS origins on 127.0.0.x that serve them.
 * Deliberately independent of the production CertificateAuthority, so a bug there cannot hide
 * behind a fixture built with it.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestLeaf {
  certPem: string;
  keyPem: string;
}

export interface TestCa {
  certPem: string;
  /** Path of the CA certificate (for --upstream-ca, --cacert, git's sslCAInfo ...). */
  certFile: string;
  /** A server certificate for `names` (DNS names or IP literals), signed by this CA. */
  issue(names: string[]): Promise<TestLeaf>;
}

function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, [
    'sign',
    'verify',
  ]) as Promise<webcrypto.CryptoKeyPair>;
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`;
}

export async function makeTestCa(name = 'egress test CA'): Promise<TestCa> {
  const caKeys = await newKeys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + DAY_MS),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ],
  });
  const certPem = caCert.toString('pem') + '\n';
  const certFile = join(tempDir('egress-test-ca-'), 'ca.pem');
  writeFileSync(certFile, certPem);
  let serial = 1;
  return {
    certPem,
    certFile,
    async issue(names) {
      const keys = await newKeys();
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (++serial).toString(16).padStart(2, '0'),
        subject: `CN=${names[0]}`,
        issuer: caCert.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + DAY_MS),
        signingKey: caKeys.privateKey,
        publicKey: keys.publicKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.SubjectAlternativeNameExtension(
            names.map((n) =>
              /^[0-9.]+$|:/.test(n)
                ? { type: 'ip' as const, value: n }
                : { type: 'dns' as const, value: n },
            ),
          ),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        ],
      });
      return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
    },
  };
}

export interface TlsOrigin {
  server: Server;
  host: string;
  port: number;
  /** Every request the origin answered, with its body. */
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

/** Answers once the request body has been read. */
export type TlsHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const echo: TlsHandler = (req, res, body) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'session=s3cr3t-cookie' });
  res.end(`secure origin ${req.method} ${req.url} body=${body.length}\n`);
};

/** An HTTPS origin on `host` with one certificate for `names`, issued by `ca`. */
export async function startTlsOrigin(
  ca: TestCa,
  names: string | string[],
  host = '127.0.0.3',
  handler: TlsHandler = echo,
): Promise<TlsOrigin> {
  const leaf = await ca.issue(typeof names === 'string' ? [names] : names);
  const seen: TlsOrigin['seen'] = [];
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    server,
    host,
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
