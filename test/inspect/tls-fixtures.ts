/**
 * TLS for inspect tests: a test CA made at test time (reusing CertificateAuthority in a temp
 * folder), HTTPS origins on 127.0.0.x serving its leaves, and small client helpers.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CertificateAuthority } from '../../src/dataplane/inspect/certificate-authority.js';

export const run = promisify(execFile);

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestCa {
  ca: CertificateAuthority;
  /** Path of the CA certificate (for --upstream-ca / --cacert). */
  certFile: string;
}

export async function makeTestCa(name: string): Promise<TestCa> {
  const dir = tempDir(`egress-test-ca-${name}-`);
  const ca = await CertificateAuthority.open(dir, name);
  const certFile = join(dir, `${name}.pem`);
  writeFileSync(certFile, ca.certificatePem);
  return { ca, certFile };
}

export interface TlsOrigin {
  server: Server;
  host: string;
  port: number;
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

export type TlsHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const echo: TlsHandler = (req, res, body) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'session=s3cr3t-cookie' });
  res.end(`secure origin ${req.method} ${req.url} body=${body.length}\n`);
};

/** An HTTPS origin on `host` whose certificate (for `name`) comes from `ca`. */
export async function startTlsOrigin(
  ca: CertificateAuthority,
  name: string,
  host = '127.0.0.3',
  handler: TlsHandler = echo,
): Promise<TlsOrigin> {
  const leaf = await ca.issue(name);
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

/** curl through the proxy; resolves with status, body and exit code (never throws). */
export async function curl(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('curl', ['-sS', '--max-time', '10', ...args]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
