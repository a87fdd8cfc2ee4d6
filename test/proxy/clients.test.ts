/**
 * Real clients through the proxy: curl (HTTP and HTTPS through CONNECT), Node fetch through
 * undici's ProxyAgent, Python urllib and git over HTTP, each allowed and denied, in restrict and
 * monitor modes. A denied upstream never sees the request.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import {
  eventually,
  startOrigin,
  startProxy,
  type Origin,
  type TestProxy,
} from '../helpers/proxy-harness.js';
import { expectLifecycle, toHost } from '../helpers/lifecycle.js';
import { proxyEnv, run } from '../helpers/run.js';
import { makeTestCa, startTlsOrigin, type TestCa, type TlsOrigin } from '../helpers/test-tls.js';

const POLICY = (mode: string) => `version: 1
name: clients
mode: ${mode}
rules:
  - deny: [denied.test]
  - allow: [allowed.test, secure.test, "127.0.0.2", "127.0.0.3"]
`;

const PINS = {
  'allowed.test': '127.0.0.2',
  'denied.test': '127.0.0.2',
  'secure.test': '127.0.0.3',
  'unlisted.test': '127.0.0.2',
};

describe('real clients through the proxy (restrict)', () => {
  let origin: Origin;
  let secure: TlsOrigin;
  let ca: TestCa;
  let proxy: TestProxy;

  before(async () => {
    origin = await startOrigin('127.0.0.2');
    ca = await makeTestCa();
    secure = await startTlsOrigin(ca, ['secure.test', 'denied.test'], '127.0.0.3', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`secure origin ${req.url}\n`);
    });
    proxy = await startProxy(POLICY('restrict'), { pins: PINS });
  });
  after(async () => {
    await proxy.close();
    await origin.close();
    await secure.close();
  });

  it('curl: allowed HTTP passes, with the body streamed both ways', async () => {
    const r = await run('curl', [
      '-sS',
      '-x',
      proxy.url,
      '--data-binary',
      'hello',
      `http://allowed.test:${origin.port}/a?b=c`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'origin POST /a?b=c body=5\n');
    assert.equal(origin.seen.at(-1)!.host, `allowed.test:${origin.port}`);
    assert.equal(
      origin.seen.at(-1)!.headers['proxy-connection'],
      undefined,
      'Proxy-* headers removed',
    );
    await expectLifecycle(proxy.events, toHost('allowed.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
  });

  it('curl: denied HTTP gets 403 with the decision headers and an actionable body', async () => {
    const before = origin.seen.length;
    const r = await run('curl', [
      '-sS',
      '-i',
      '-x',
      proxy.url,
      `http://denied.test:${origin.port}/secret`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 403 Forbidden/);
    assert.match(r.stdout, /X-Egress-Decision: deny/i);
    assert.match(r.stdout, /X-Egress-Reason: denied_by_rule/i);
    assert.match(r.stdout, /Destination: denied\.test:\d+/);
    assert.match(r.stdout, /Rule:\s+rule 1 \(deny denied\.test at test-policy\.yaml:5:12\)/);
    assert.match(r.stdout, /To get access/);
    assert.equal(origin.seen.length, before, 'the denied upstream saw nothing');
    await eventually(() =>
      proxy.events.some(
        (e) => e.type === 'request.denied' && e.destination?.host === 'denied.test',
      ),
    );
    await expectLifecycle(proxy.events, toHost('denied.test'), [
      'request.opened',
      'request.denied',
    ]);
  });

  it('curl: HTTPS through CONNECT to an allowed name', async () => {
    const r = await run('curl', [
      '-sS',
      '--cacert',
      ca.certFile,
      '-x',
      proxy.url,
      `https://secure.test:${secure.port}/tls`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'secure origin /tls\n');
    await expectLifecycle(proxy.events, toHost('secure.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
  });

  it('curl: CONNECT to a denied name is refused with 403 before any byte reaches the origin', async () => {
    const before = secure.seen.length;
    const r = await run('curl', [
      '-sS',
      '-v',
      '--cacert',
      ca.certFile,
      '-x',
      proxy.url,
      `https://denied.test:${secure.port}/`,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /403/);
    assert.equal(secure.seen.length, before);
    await expectLifecycle(proxy.events, toHost('denied.test'), [
      'request.opened',
      'request.denied',
    ]);
  });

  it('Node fetch through undici ProxyAgent: HTTP allowed and denied, HTTPS allowed', async () => {
    const agent = new ProxyAgent({ uri: proxy.url, requestTls: { ca: ca.certPem } });
    try {
      const ok = await undiciFetch(`http://allowed.test:${origin.port}/fetch`, {
        dispatcher: agent,
      });
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'origin GET /fetch body=0\n');
      // undici tunnels every request (plain HTTP too) through CONNECT, so a denial is a 403
      // on the CONNECT, which fetch reports as a rejected promise.
      await assert.rejects(
        undiciFetch(`http://unlisted.test:${origin.port}/fetch`, { dispatcher: agent }),
        (err: Error & { cause?: { message?: string; cause?: Error } }) =>
          /403/.test(`${err.cause?.message} ${err.cause?.cause?.message}`),
      );
      assert.ok(
        proxy.events.some(
          (e) =>
            e.type === 'request.denied' &&
            e.destination?.host === 'unlisted.test' &&
            e.reason === 'default_deny',
        ),
      );
      const tls = await undiciFetch(`https://secure.test:${secure.port}/fetch`, {
        dispatcher: agent,
      });
      assert.equal(await tls.text(), 'secure origin /fetch\n');
    } finally {
      await agent.close();
    }
  });

  it('Python urllib: HTTP allowed, HTTPS allowed, denied gets 403', async () => {
    const script = `
import ssl, sys, urllib.request, urllib.error
proxy = sys.argv[1]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({'http': proxy, 'https': proxy}), urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=sys.argv[2])))
print(opener.open(sys.argv[3]).read().decode().strip())
print(opener.open(sys.argv[4]).read().decode().strip())
try:
    opener.open(sys.argv[5])
except urllib.error.HTTPError as e:
    print(e.code, e.headers['X-Egress-Reason'])
`;
    const r = await run('python3', [
      '-c',
      script,
      proxy.url,
      ca.certFile,
      `http://allowed.test:${origin.port}/py`,
      `https://secure.test:${secure.port}/py`,
      `http://denied.test:${origin.port}/py`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'origin GET /py body=0',
      'secure origin /py',
      '403 denied_by_rule',
    ]);
  });

  it('git clone over HTTP through the proxy; denied remote fails with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-git-'));
    const env = { ...proxyEnv(proxy.url), GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' };
    const bare = join(dir, 'repo.git');
    const work = join(dir, 'work');
    for (const args of [
      ['init', '-q', '--bare', bare],
      ['init', '-q', work],
    ])
      assert.equal((await run('git', args)).code, 0);
    writeFileSync(join(work, 'README'), 'hello through egress\n');
    for (const args of [
      ['add', 'README'],
      ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'one'],
      ['push', '-q', bare, 'HEAD:refs/heads/main'],
    ]) {
      const r = await run('git', args, { cwd: work });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await run('git', ['update-server-info'], { cwd: bare })).code, 0);
    const gitOrigin = await startOrigin('127.0.0.2', (req, res) => {
      // A "dumb HTTP" git server: static files of the bare repository.
      import('node:fs').then(({ readFile }) =>
        readFile(join(dir, decodeURIComponent((req.url ?? '/').split('?')[0]!)), (err, data) => {
          if (err) {
            res.writeHead(404).end();
            return;
          }
          res.writeHead(200).end(data);
        }),
      );
    });
    try {
      const ok = await run(
        'git',
        ['clone', '-q', `http://allowed.test:${gitOrigin.port}/repo.git`, join(dir, 'clone')],
        { env },
      );
      assert.equal(ok.code, 0, ok.stderr);
      const denied = await run(
        'git',
        ['clone', '-q', `http://denied.test:${gitOrigin.port}/repo.git`, join(dir, 'clone2')],
        { env },
      );
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /403/);
    } finally {
      await gitOrigin.close();
    }
  });
});

describe('monitor mode', () => {
  it('lets denied destinations through and records wouldDeny', async () => {
    const origin = await startOrigin('127.0.0.2');
    const proxy = await startProxy(POLICY('monitor'), { pins: PINS });
    try {
      const r = await run('curl', ['-sS', '-x', proxy.url, `http://denied.test:${origin.port}/m`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'origin GET /m body=0\n');
      await eventually(() =>
        proxy.events.some((e) => e.type === 'request.allowed' && e.wouldDeny === true),
      );
      const event = proxy.events.find((e) => e.type === 'request.allowed' && e.wouldDeny)!;
      assert.equal(event.verdict, 'deny');
      assert.equal(event.enforced, false);
      assert.equal(event.reason, 'denied_by_rule');
      await expectLifecycle(proxy.events, toHost('denied.test'), [
        'request.opened',
        'request.allowed',
        'request.closed',
      ]);
    } finally {
      await proxy.close();
      await origin.close();
    }
  });
});
