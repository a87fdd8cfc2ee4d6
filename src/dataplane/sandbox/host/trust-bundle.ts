/**
 * Inspect mode: the files that make the sandbox trust the session CA. The bundle is the
 * system's CA store (the first one found, else node's built-in roots) followed by the CA
 * certificate; both are public. The CA key stays in a folder the sandbox cannot see.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import type { TrustFiles } from './env.js';

/** Where distributions keep the system CA bundle (Debian/Ubuntu, Fedora/RHEL, openSUSE, Alpine). */
export const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

export function systemStore(candidates = SYSTEM_BUNDLES): string {
  for (const path of candidates) {
    try {
      if (existsSync(path)) return readFileSync(path, 'utf8');
    } catch {
      // Unreadable: try the next one.
    }
  }
  return rootCertificates.join('\n') + '\n';
}

export function writeTrustFiles(dir: string, caPem: string): TrustFiles {
  const pem = caPem.endsWith('\n') ? caPem : caPem + '\n';
  const caCert = join(dir, 'session-ca.pem');
  const bundle = join(dir, 'ca-bundle.pem');
  writeFileSync(caCert, pem, { mode: 0o644 });
  const store = systemStore();
  writeFileSync(bundle, (store.endsWith('\n') ? store : store + '\n') + pem, { mode: 0o644 });
  return { caCert, bundle };
}
