/**
 * The inspection CA: created once per workspace, reused across restarts, key file 0600,
 * exported by `egress ca export`; leaves are quick to make and cached with a bound.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import {
  CertificateAuthority,
  workspaceDirName,
} from '../../src/dataplane/inspect/certificate-authority.js';
import { LeafCache } from '../../src/dataplane/inspect/leaf-cache.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { curl, run } from '../helpers/run.js';
import { makeTestCa, startTlsOrigin, tempDir } from '../helpers/test-tls.js';

describe('inspection CA', () => {
  it('is created on first use with a 0600 key, and reused after', async () => {
    const dir = tempDir('egress-ca-');
    const first = await CertificateAuthority.open(dir, 'team-a');
    const keyFile = join(dir, 'ca', 'team-a', 'ca.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'ca', 'team-a')).mode & 0o777, 0o700);
    const again = await CertificateAuthority.open(dir, 'team-a');
    assert.equal(again.certificatePem, first.certificatePem);
    const other = await CertificateAuthority.open(dir, 'team-b');
    assert.notEqual(other.certificatePem, first.certificatePem);
    const cert = new X509Certificate(first.certificatePem);
    assert.equal(cert.ca, true);
    assert.match(cert.subject, /egress inspection CA \(team-a\)/);
  });

  it('keeps odd workspace names inside the CA folder', () => {
    assert.equal(workspaceDirName('team-a'), 'team-a');
    assert.match(workspaceDirName('../etc'), /^ws-[0-9a-f]{32}$/);
    assert.match(workspaceDirName('a/b'), /^ws-/);
  });

  it('issues leaves for names and IP literals that verify against the CA', async () => {
    const ca = await CertificateAuthority.open(tempDir('egress-ca-'), 'w');
    const caCert = new X509Certificate(ca.certificatePem);
    const byName = new X509Certificate((await ca.issue('api.example.com')).certPem);
    assert.equal(byName.subjectAltName, 'DNS:api.example.com');
    assert.ok(byName.verify(caCert.publicKey));
    assert.ok(byName.checkIssued(caCert));
    const validDays = (Date.parse(byName.validTo) - Date.now()) / 86400_000;
    assert.ok(validDays > 0.9 && validDays <= 1, `leaf valid for ${validDays} days`);
    const byIp = new X509Certificate((await ca.issue('192.0.2.7')).certPem);
    assert.equal(byIp.subjectAltName, 'IP Address:192.0.2.7');
  });

  it('makes a leaf in a few ms and caches them in a bounded LRU', async () => {
    const ca = await CertificateAuthority.open(tempDir('egress-ca-'), 'w');
    const cache = new LeafCache(ca, 50);
    await cache.get('warm-up.test');
    const started = performance.now();
    const n = 100;
    for (let i = 0; i < n; i++) await cache.get(`host-${i}.example.com`);
    const perLeaf = (performance.now() - started) / n;
    console.log(`# leaf certificate (issue + TLS context): ${perLeaf.toFixed(2)} ms each`);
    assert.ok(perLeaf < 100, `a leaf took ${perLeaf} ms`);
    assert.equal(cache.size, 50);
    const hitStart = performance.now();
    const a = cache.get('host-99.example.com');
    const b = cache.get('host-99.example.com');
    assert.equal(a, b);
    await a;
    assert.ok(performance.now() - hitStart < 5);
  });

  it('egress ca export prints the CA the proxy signs with, across restarts', async () => {
    const stateDir = tempDir('egress-state-');
    const exported = await run('bin/egress', [
      'ca',
      'export',
      '--state-dir',
      stateDir,
      '--workspace',
      'test-ws',
    ]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(
      exported.stdout,
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/,
    );
    assert.equal(exported.stdout, readFileSync(join(stateDir, 'ca', 'test-ws', 'ca.crt'), 'utf8'));
    assert.ok(!exported.stdout.includes('PRIVATE KEY'));
    const caFile = join(stateDir, 'exported.pem');
    await import('node:fs').then((fs) => fs.writeFileSync(caFile, exported.stdout));

    const testCa = await makeTestCa('origin');
    const origin = await startTlsOrigin(testCa, 'secure.test');
    const policy = `version: 1\nname: p\nmode: inspect\nrules:\n  - allow: [secure.test, "127.0.0.3"]\n`;
    try {
      for (let restart = 0; restart < 2; restart++) {
        const proxy = await startProxy(policy, {
          pins: { 'secure.test': '127.0.0.3' },
          inspect: { stateDir, upstreamCa: [testCa.certFile] },
        });
        try {
          const r = await curl([
            '--cacert',
            caFile,
            '-x',
            proxy.url,
            `https://secure.test:${origin.port}/r${restart}`,
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, new RegExp(`GET /r${restart}`));
        } finally {
          await proxy.close();
        }
      }
    } finally {
      await origin.close();
    }
    const again = await run('bin/egress', [
      'ca',
      'export',
      '--state-dir',
      stateDir,
      '--workspace',
      'test-ws',
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, exported.stdout);
  });
});
