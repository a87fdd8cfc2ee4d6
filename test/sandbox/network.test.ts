/**
 * egress run: real programs inside the sandbox reach only what the policy allows — through the
 * proxy variables, through the transparent redirect when they ignore them, by name resolution,
 * and never by UDP. The origin runs OUTSIDE the sandbox on 127.0.0.2; inside, 127.0.0.0/8 is
 * the sandbox's own loopback, so it is reached by name through egress (`--resolve`).
 */
import { strict as assert } from 'node:assert';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { assertLifecycle, requestIdOf, toHost } from '../helpers/lifecycle.js';
import { startOrigin, type Origin } from '../helpers/proxy-harness.js';
import {
  egressRun,
  readEvents,
  restrictPolicy,
  sharedTempDir,
  writePolicy,
} from '../helpers/sandbox.js';
import { WITHOUT_DIG, WITHOUT_NFT } from '../helpers/tools.js';

describe('egress run: network', () => {
  let origin: Origin;
  let dir: string;
  let policy: string;
  const pins = ['--resolve', 'allowed.test=127.0.0.2', '--resolve', 'denied.test=127.0.0.2'];

  before(async () => {
    origin = await startOrigin('127.0.0.2');
    dir = sharedTempDir();
    policy = writePolicy(dir, restrictPolicy());
  });
  after(async () => origin.close());

  const sh = (script: string, extra: string[] = []) =>
    egressRun(['--policy', policy, ...pins, ...extra, '--', 'sh', '-c', script]);

  it('curl through the proxy variables: allowed name 200, denied name 403 with the summary', async () => {
    const audit = join(dir, 'proxy-variables-audit.ndjson');
    const r = await sh(
      `curl -s -o /dev/null -w '%{http_code}\\n' http://allowed.test:${origin.port}/a; ` +
        `curl -s -o /dev/null -w '%{http_code}\\n' http://denied.test:${origin.port}/b`,
      ['--audit-log', audit],
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['200', '403']);
    assert.ok(origin.seen.some((s) => s.url === '/a'));
    assert.ok(!origin.seen.some((s) => s.url === '/b'));
    assert.match(r.stderr, /denied 1 destination/);
    assert.match(
      r.stderr,
      new RegExp(`denied\\.test:${origin.port} +1 connection, the default \\(deny\\)`),
    );
    assert.match(r.stderr, new RegExp(`to allow: - allow: \\["denied\\.test:${origin.port}"\\]`));
    // Each request's lifecycle, in order, from the run's audit log (egress run's proxy path).
    const events = readEvents(audit);
    assertLifecycle(events, requestIdOf(events, toHost('allowed.test')), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
    assertLifecycle(events, requestIdOf(events, toHost('denied.test')), [
      'request.opened',
      'request.denied',
    ]);
  });

  it(
    'says nothing at the end when nothing was denied (and --quiet keeps it so)',
    { skip: WITHOUT_NFT },
    async () => {
      const r = await sh(`curl -s -o /dev/null http://allowed.test:${origin.port}/`);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, '');
      const q = await sh(`curl -s -o /dev/null http://denied.test:${origin.port}/`, ['--quiet']);
      assert.equal(q.stderr, '');
    },
  );

  it(
    "curl --noproxy '*' straight to an address is decided by the policy (denied), never direct",
    { skip: WITHOUT_NFT },
    async () => {
      const r = await sh(
        `curl -s -o /dev/null -w '%{http_code}\\n' --max-time 5 --noproxy '*' http://192.0.2.10:${origin.port}/direct; ` +
          `curl -s -o /dev/null -w '%{http_code}\\n' --max-time 5 --noproxy '*' http://127.0.0.2:${origin.port}/loop`,
      );
      // 192.0.2.10 is redirected to egress and denied (403); 127.0.0.2 is the sandbox's own
      // loopback, where nothing listens (000): the host's loopback is out of reach.
      assert.deepEqual(r.stdout.trim().split('\n'), ['403', '000']);
      assert.ok(!origin.seen.some((s) => s.url === '/direct' || s.url === '/loop'));
    },
  );

  it(
    'a program that ignores the proxy variables (raw Python socket) is decided by Host via the redirect',
    { skip: WITHOUT_NFT },
    async () => {
      const py = (host: string, path: string) =>
        `python3 -c "import socket; s=socket.create_connection(('192.0.2.10', ${origin.port}), timeout=5); ` +
        `s.sendall(b'GET ${path} HTTP/1.1\\r\\nHost: ${host}:${origin.port}\\r\\nConnection: close\\r\\n\\r\\n'); ` +
        `print(s.recv(100).split(b'\\r\\n')[0].decode())"`;
      const audit = join(dir, 'raw-socket-audit.ndjson');
      const r = await sh(`${py('allowed.test', '/raw-ok')}; ${py('denied.test', '/raw-no')}`, [
        '--audit-log',
        audit,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [ok, no] = r.stdout.trim().split('\n');
      assert.match(ok!, /^HTTP\/1\.1 200/);
      assert.match(no!, /^HTTP\/1\.1 403/);
      assert.ok(origin.seen.some((s) => s.url === '/raw-ok'));
      assert.ok(!origin.seen.some((s) => s.url === '/raw-no'));
      // The redirected connections (the transparent entrance) have the same lifecycle.
      const events = readEvents(audit);
      assertLifecycle(events, requestIdOf(events, toHost('allowed.test')), [
        'request.opened',
        'request.allowed',
        'request.closed',
      ]);
      assertLifecycle(events, requestIdOf(events, toHost('denied.test')), [
        'request.opened',
        'request.denied',
      ]);
    },
  );

  it(
    'name resolution: getent and dig answer allowed names and refuse denied ones',
    { skip: WITHOUT_DIG || WITHOUT_NFT },
    async () => {
      const r = await sh(
        'getent hosts allowed.test; echo "getent-denied=$(getent hosts denied.test >/dev/null; echo $?)"; ' +
          'dig +short allowed.test; dig denied.test | grep -o "status: [A-Z]*"; ' +
          // A hard-coded resolver is redirected to the sandbox DNS too.
          'dig +short @8.8.8.8 allowed.test; dig +tcp +short allowed.test',
      );
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[0]!, /^127\.0\.0\.2\s+allowed\.test$/);
      assert.equal(lines[1], 'getent-denied=2');
      assert.equal(lines[2], '127.0.0.2');
      assert.equal(lines[3], 'status: REFUSED');
      assert.equal(lines[4], '127.0.0.2');
      assert.equal(lines[5], '127.0.0.2');
      assert.match(r.stderr, /denied\.test \(name lookup\)/);
    },
  );

  it(
    'UDP never leaves: a listening server outside gets nothing; udp.dropped is recorded',
    { skip: WITHOUT_NFT },
    async () => {
      const server = createSocket('udp4');
      let received = 0;
      server.on('message', () => received++);
      await new Promise<void>((resolve) => server.bind(0, '127.0.0.3', resolve));
      const port = server.address().port;
      const audit = join(dir, 'udp-audit.ndjson');
      const send = (host: string) =>
        `python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n` +
        `try: s.sendto(b'hello', ('${host}', ${port})); print('sent')\nexcept OSError as e: print('refused', e.errno)"`;
      const r = await sh(`${send('192.0.2.10')}; ${send('192.0.2.10')}; ${send('127.0.0.3')}`, [
        '--audit-log',
        audit,
      ]);
      assert.equal(r.code, 0, r.stderr);
      // Dropped by the sandbox's filter (EPERM), or sent to the sandbox's own loopback.
      assert.deepEqual(r.stdout.trim().split('\n'), ['refused 1', 'refused 1', 'sent']);
      await new Promise((resolve) => setTimeout(resolve, 300));
      server.close();
      assert.equal(received, 0);
      const dropped = readEvents(audit).filter((e) => e.type === 'udp.dropped');
      assert.equal(dropped.length, 1);
      assert.equal(dropped[0]!.destination?.ip, '192.0.2.10');
      assert.equal(dropped[0]!.destination?.port, port);
      assert.equal((dropped[0] as unknown as { packets: number }).packets, 2);
      assert.match(r.stderr, new RegExp(`192\\.0\\.2\\.10:${port}/udp +2 packets`));
    },
  );

  it('the audit log records the run with its session, and is hidden from the command', async () => {
    const audit = join(dir, 'audit.ndjson');
    const r = await sh(
      `curl -s -o /dev/null http://allowed.test:${origin.port}/; wc -c < ${audit}`,
      ['--audit-log', audit],
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0');
    const events = readEvents(audit);
    const started = events.find((e) => e.type === 'proxy.started');
    assert.ok(started?.session);
    assert.ok(events.some((e) => e.type === 'request.allowed' && e.session === started.session));
  });
});
