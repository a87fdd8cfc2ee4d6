/**
 * Inspect mode with more real clients: Python urllib and git over HTTPS, each trusting the
 * exported egress CA, each exchange recorded as an inspect.exchange event.
 */
import assert from 'node:assert/strict';
import { readFile, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificateAuthority } from '../../src/dataplane/inspect/certificate-authority.js';
import { eventually, startProxy, type TestProxy } from '../helpers/proxy-harness.js';
import { proxyEnv, run } from '../helpers/run.js';
import { makeTestCa, startTlsOrigin, tempDir, type TlsOrigin } from '../helpers/test-tls.js';

const POLICY = `version: 1
name: inspect-clients
mode: inspect
rules:
  - allow: [git.test, api.test, "127.0.0.3"]
redact: ["tok_[a-z0-9]+"]
`;

describe('inspect mode: Python and git', () => {
  let origin: TlsOrigin;
  let proxy: TestProxy;
  let caFile: string;
  let repoDir: string;

  before(async () => {
    const testCa = await makeTestCa('clients-origin');
    repoDir = tempDir('egress-inspect-git-');
    const bare = join(repoDir, 'repo.git');
    const work = join(repoDir, 'work');
    for (const args of [
      ['init', '-q', '--bare', bare],
      ['init', '-q', work],
    ])
      assert.equal((await run('git', args)).code, 0);
    writeFileSync(join(work, 'README'), 'inspected\n');
    for (const args of [
      ['add', 'README'],
      ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'one'],
      ['push', '-q', bare, 'HEAD:refs/heads/main'],
    ]) {
      assert.equal((await run('git', args, { cwd: work })).code, 0);
    }
    assert.equal((await run('git', ['update-server-info'], { cwd: bare })).code, 0);
    origin = await startTlsOrigin(testCa, 'git.test', '127.0.0.3', (req, res) => {
      if (req.url?.startsWith('/api')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"token":"tok_abc123","ok":true}');
        return;
      }
      readFile(join(repoDir, decodeURIComponent((req.url ?? '/').split('?')[0]!)), (err, data) => {
        if (err) res.writeHead(404).end();
        else res.writeHead(200).end(data);
      });
    });
    const stateDir = tempDir('egress-inspect-state-');
    proxy = await startProxy(POLICY, {
      pins: { 'git.test': '127.0.0.3', 'api.test': '127.0.0.3' },
      inspect: { stateDir, upstreamCa: [testCa.certFile] },
    });
    const ca = await CertificateAuthority.open(stateDir, 'test-ws');
    caFile = join(stateDir, 'egress-ca.pem');
    writeFileSync(caFile, ca.certificatePem);
  });

  after(async () => {
    await proxy.close();
    await origin.close();
  });

  it('Python urllib over HTTPS is intercepted and recorded with redaction', async () => {
    const script = `
import ssl, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({'https': sys.argv[1]}), urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=sys.argv[2])))
print(opener.open(sys.argv[3]).read().decode())
`;
    const r = await run('python3', [
      '-c',
      script,
      proxy.url,
      caFile,
      `https://git.test:${origin.port}/api/x`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"ok":true/);
    await eventually(() =>
      proxy.events.some(
        (e) => e.type === 'inspect.exchange' && JSON.stringify(e.http).includes('/api/x'),
      ),
    );
    const event = proxy.events.find(
      (e) => e.type === 'inspect.exchange' && JSON.stringify(e.http).includes('/api/x'),
    )!;
    assert.doesNotMatch(
      JSON.stringify(event),
      /tok_abc123/,
      'the token is redacted before the event exists',
    );
  });

  it('git clone over HTTPS trusts the egress CA through GIT_SSL_CAINFO', async () => {
    const env = {
      ...proxyEnv(proxy.url),
      GIT_SSL_CAINFO: caFile,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
    };
    const r = await run(
      'git',
      ['clone', '-q', `https://git.test:${origin.port}/repo.git`, join(repoDir, 'clone')],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    await eventually(() =>
      proxy.events.some(
        (e) => e.type === 'inspect.exchange' && JSON.stringify(e.http).includes('info/refs'),
      ),
    );
  });
});
