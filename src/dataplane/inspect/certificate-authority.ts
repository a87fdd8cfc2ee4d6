/**
 * The per-workspace inspection CA (ECDSA P-256). Created on first use under the state
 * directory, reused after: `<state>/ca/<workspace>/ca.crt` (0644) and `ca.key` (0600, PKCS#8).
 * The CA key is imported non-extractable and only ever used to sign leaves in this process;
 * `egress ca export` prints the certificate, never the key.
 *
 * Leaves share one key pair per CA instance, generated in memory at open and never written:
 * a fresh key per host would cost more than the certificate itself and buys nothing, because
 * whoever can read this process's memory can read the CA key too.
 */
import type * as X509 from '@peculiar/x509';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { importModule } from '../import-module.js';

/**
 * @peculiar/x509 (with reflect-metadata) takes hundreds of milliseconds to load and only inspect
 * mode needs it, so it is loaded on first use; every command starts faster.
 */
async function loadX509(): Promise<typeof X509> {
  await importModule('reflect-metadata');
  const x509 = await importModule<typeof X509>('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as never);
  return x509;
}

type CryptoKey = webcrypto.CryptoKey;

const EC: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = {
  name: 'ECDSA',
  namedCurve: 'P-256',
  hash: 'SHA-256',
};
const CA_YEARS = 10;
/** Leaves are valid for a day (an hour back for clock skew); the cache renews them early. */
export const LEAF_VALIDITY_MS = 24 * 3600_000;
const BACKDATE_MS = 3600_000;

/** `$XDG_STATE_HOME/egress`, else `~/.local/state/egress`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'egress');
}

/** A directory name for a workspace that cannot escape the CA folder. */
export function workspaceDirName(workspace: string): string {
  if (/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(workspace)) return workspace;
  return `ws-${createHash('sha256').update(workspace).digest('hex').slice(0, 32)}`;
}

export interface IssuedLeaf {
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive
  return bytes.toString('hex');
}

async function generateCa(workspace: string): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`egress inspection CA (${workspace})`] }, { O: ['egress'] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_YEARS * 365 * 86400_000),
    keys: keys as never,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign |
          x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certPem: cert.toString('pem') + '\n',
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n',
  };
}

/**
 * Writes the CA into a temporary folder and renames it into place, so a CA folder is always
 * complete; if another process won the race, its CA is the one used.
 */
function writeCa(dir: string, parent: string, pair: { certPem: string; keyPem: string }): void {
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(parent, '.tmp-'));
  try {
    writeFileSync(join(tmp, 'ca.key'), pair.keyPem, { mode: 0o600 });
    chmodSync(join(tmp, 'ca.key'), 0o600);
    writeFileSync(join(tmp, 'ca.crt'), pair.certPem, { mode: 0o644 });
    chmodSync(tmp, 0o700);
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}

export class CertificateAuthority {
  private constructor(
    private readonly x509: typeof X509,
    readonly certificate: X509.X509Certificate,
    private readonly signingKey: CryptoKey,
    private readonly leafKeys: { publicKey: X509.PublicKey; keyPem: string },
    private readonly authorityKeyId: X509.AuthorityKeyIdentifierExtension,
    private readonly subjectKeyId: X509.SubjectKeyIdentifierExtension,
    /** Where the CA lives on disk. */
    readonly directory: string,
  ) {}

  /** Loads the workspace's CA from `stateDir`, creating it first if there is none. */
  static async open(stateDir: string, workspace: string): Promise<CertificateAuthority> {
    const parent = join(stateDir, 'ca');
    const dir = join(parent, workspaceDirName(workspace));
    if (!existsSync(join(dir, 'ca.key'))) writeCa(dir, parent, await generateCa(workspace));
    const x509 = await loadX509();
    const certPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const keyPem = readFileSync(join(dir, 'ca.key'), 'utf8');
    const certificate = new x509.X509Certificate(certPem);
    // Non-extractable: from here on the key can sign, and nothing else.
    const signingKey = await webcrypto.subtle.importKey(
      'pkcs8',
      x509.PemConverter.decodeFirst(keyPem),
      EC,
      false,
      ['sign'],
    );
    const leaf = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
    const leafSpki = await webcrypto.subtle.exportKey('spki', leaf.publicKey);
    const leafPkcs8 = await webcrypto.subtle.exportKey('pkcs8', leaf.privateKey);
    return new CertificateAuthority(
      x509,
      certificate,
      signingKey,
      {
        publicKey: new x509.PublicKey(leafSpki),
        keyPem: x509.PemConverter.encode(leafPkcs8, 'PRIVATE KEY'),
      },
      await x509.AuthorityKeyIdentifierExtension.create(certificate),
      await x509.SubjectKeyIdentifierExtension.create(leaf.publicKey as never),
      dir,
    );
  }

  /** The CA certificate as PEM (what clients must trust), ending in a newline. */
  get certificatePem(): string {
    return this.certificate.toString('pem') + '\n';
  }

  /** A server certificate for one host name or IP literal, signed by this CA. */
  async issue(name: string, now = Date.now()): Promise<IssuedLeaf> {
    const x509 = this.x509;
    const ip = isIP(name) !== 0;
    const notAfter = new Date(now + LEAF_VALIDITY_MS);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: new x509.Name([{ CN: [name] }]),
      issuer: this.certificate.subjectName,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter,
      signingAlgorithm: EC,
      publicKey: this.leafKeys.publicKey,
      signingKey: this.signingKey as never,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: ip ? 'ip' : 'dns', value: name }]),
        this.authorityKeyId,
        this.subjectKeyId,
      ],
    });
    return { certPem: cert.toString('pem'), keyPem: this.leafKeys.keyPem, notAfter };
  }
}
