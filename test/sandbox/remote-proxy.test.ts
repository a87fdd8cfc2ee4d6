/**
 * `egress run --proxy URL [--dns HOST:PORT]`: the sandbox goes out through an `egress proxy`
 * that is already running; that proxy decides (and records) every connection, through the
 * proxy variables and through the transparent redirect alike; its DNS answers names.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type Origin } from '../helpers/proxy-harness.js';
import {
  egressRun,
  freePort,
  readEvents,
  restrictPolicy,
  sharedTempDir,
  writePolicy,
} from '../helpers/sandbox.js';
import { WITHOUT_NFT } from '../helpers/tools.js';

describe('egress run --proxy (a running egress proxy)', () => {
  let origin: Origin;
  let dir: string;
  let proxy: ChildProcess;
  let proxyPort: number;
  let dnsPort: number;
  let audit: string;

  before(async () => {
    origin = await startOrigin('127.0.0.2');
    dir = sharedTempDir();
    const policy = writePolicy(dir, restrictPolicy());
    audit = join(dir, 'proxy-audit.ndjson');
    proxyPort = await freePort();
    dnsPort = await freePort();
    proxy = spawn(
      process.execPath,
      [
        'bin/egress',
        'proxy',
        '--policy',
        policy,
        '--listen',
        `127.0.0.1:${proxyPort}`,
        '--dns-listen',
        `127.0.0.1:${dnsPort}`,
        '--resolve',
        'allowed.test=127.0.0.2',
        '--resolve',
        'denied.test=127.0.0.2',
        '--audit-log',
        audit,
        '--log-level',
        'error',
      ],
      { stdio: 'ignore' },
    );
    // Wait until the proxy accepts connections (its start-up takes a moment on a busy machine).
    for (let i = 0; i < 200; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const c = connect(proxyPort, '127.0.0.1');
        c.once('connect', () => (c.destroy(), resolve(true)));
        c.once('error', () => resolve(false));
      });
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    proxy.kill('SIGTERM');
    await origin.close();
  });

  it(
    'the running proxy decides proxied and redirected connections; its DNS answers names',
    { skip: WITHOUT_NFT },
    async () => {
      const r = await egressRun([
        '--proxy',
        `http://127.0.0.1:${proxyPort}`,
        '--dns',
        `127.0.0.1:${dnsPort}`,
        '--',
        'sh',
        '-c',
        `curl -s -o /dev/null -w '%{http_code}\\n' http://allowed.test:${origin.port}/via-proxy; ` +
          `curl -s -o /dev/null -w '%{http_code}\\n' http://denied.test:${origin.port}/denied; ` +
          `curl -s -o /dev/null -w '%{http_code}\\n' --noproxy '*' --connect-to ::192.0.2.10: http://allowed.test:${origin.port}/redirected; ` +
          `getent hosts allowed.test >/dev/null && echo resolved; getent hosts denied.test >/dev/null || echo refused`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['200', '403', '200', 'resolved', 'refused']);
      assert.ok(origin.seen.some((s) => s.url === '/via-proxy'));
      assert.ok(origin.seen.some((s) => s.url === '/redirected'));
      assert.ok(!origin.seen.some((s) => s.url === '/denied'));
      const events = readEvents(audit);
      assert.ok(
        events.some((e) => e.type === 'request.denied' && e.destination?.host === 'denied.test'),
      );
    },
  );

  it('without --policy or --dns it says what to give', async () => {
    const r = await egressRun(['--proxy', `http://127.0.0.1:${proxyPort}`, '--', 'true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /with --proxy, give --policy FILE .* or --dns HOST:PORT/);
  });
});
