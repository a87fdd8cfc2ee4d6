/**
 * egress run with real tools: git clone over HTTP from a local server under a policy that
 * allows it, and inspect mode where curl and Node trust the session CA made for the run
 * (whose key the command cannot read).
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type Origin } from '../helpers/proxy-harness.js';
import { makeTestCa, startTlsOrigin, type TlsOrigin } from '../helpers/test-tls.js';
import {
  egressRun,
  restrictPolicy,
  servedGitRepo,
  sharedTempDir,
  writePolicy,
} from '../helpers/sandbox.js';

describe('egress run: git over HTTP', () => {
  let dir: string;
  let origin: Origin;

  before(async () => {
    dir = sharedTempDir();
    servedGitRepo(dir);
    // "Dumb" HTTP: git fetches the repository's files as they are.
    origin = await startOrigin('127.0.0.2', (req, res) => {
      const path = normalize(join(dir, 'served', decodeURIComponent(req.url!.split('?')[0]!)));
      if (
        !path.startsWith(join(dir, 'served')) ||
        !existsSync(path) ||
        statSync(path).isDirectory()
      ) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(path));
    });
  });
  after(async () => origin.close());

  it('git clone works when the policy allows the server, and is refused when it does not', async () => {
    const allow = writePolicy(dir, restrictPolicy());
    const url = `http://allowed.test:${origin.port}/repo.git`;
    const pins = ['--resolve', 'allowed.test=127.0.0.2'];
    const target = join(dir, 'clone-ok');
    const ok = await egressRun([
      '--policy',
      allow,
      ...pins,
      '--',
      'git',
      'clone',
      '-q',
      url,
      target,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(readFileSync(join(target, 'README'), 'utf8'), 'hello\n');
    const deny = writePolicy(
      dir,
      restrictPolicy().replace('allowed.test', 'other.test'),
      'deny.yaml',
    );
    const no = await egressRun([
      '--policy',
      deny,
      ...pins,
      '--',
      'git',
      'clone',
      '-q',
      url,
      join(dir, 'clone-no'),
    ]);
    assert.notEqual(no.code, 0);
    assert.match(no.stderr, /403/);
    assert.match(no.stderr, /to allow: - allow: \["allowed\.test:\d+"\]/);
  });
});

describe('egress run: inspect mode', () => {
  let dir: string;
  let origin: TlsOrigin;
  let upstreamCa: string;

  before(async () => {
    dir = sharedTempDir();
    const testCa = await makeTestCa('sandbox-origin');
    upstreamCa = testCa.certFile;
    origin = await startTlsOrigin(testCa, 'allowed.test', '127.0.0.2');
  });
  after(async () => origin.close());

  it('curl and Node trust the session CA; the CA key is hidden from the command', async () => {
    const policy = writePolicy(dir, restrictPolicy().replace('mode: restrict', 'mode: inspect'));
    const url = `https://allowed.test:${origin.port}/inspected`;
    const node =
      `const { fetch, ProxyAgent } = require('undici');` +
      `fetch('${url}?node', { dispatcher: new ProxyAgent(process.env.HTTPS_PROXY) })` +
      `.then((r) => console.log('node', r.status)).catch((e) => { console.log('node error', e.cause?.code ?? e.message); })`;
    const r = await egressRun([
      '--policy',
      policy,
      '--resolve',
      'allowed.test=127.0.0.2',
      '--upstream-ca',
      upstreamCa,
      '--',
      'sh',
      '-c',
      `curl -s -o /dev/null -w 'curl %{http_code}\\n' ${url}?curl; node -e "${node}"; ` +
        'echo "bundle $(grep -c BEGIN "$CURL_CA_BUNDLE")"; ' +
        'ls -A "$(dirname "$NODE_EXTRA_CA_CERTS")/private/ca" | wc -l',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'curl 200');
    assert.equal(lines[1], 'node 200');
    assert.ok(Number(lines[2]!.split(' ')[1]) > 1, 'the bundle holds the system store and the CA');
    assert.equal(lines[3], '0', 'the folder with the CA key looks empty inside');
    assert.equal(origin.seen.filter((s) => s.url.startsWith('/inspected')).length, 2);
  });
});
