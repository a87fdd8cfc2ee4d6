/**
 * Programs that ignore the proxy variables and speak neither HTTP nor TLS on port 80/443 (SSH,
 * database protocols, TLS on another port): their redirected connections are judged by the name
 * the program looked up through the sandbox's DNS for the address it connected to, on the port
 * it connected to, and dialled at exactly that address and port. The servers need an address
 * outside the denied classes, so a TEST-NET-2 address is added to the host's loopback interface
 * for the test (root only; nothing leaves the machine).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { egressRun, readEvents, sharedTempDir, writePolicy } from '../helpers/sandbox.js';
import { startRawOrigin, type RawOrigin } from '../helpers/raw-socket.js';
import { WITHOUT_NFT } from '../helpers/tools.js';

const ADDRESS = '198.51.100.54';

/** Python inside: look `name` up (or use it as an address), connect to `port`, then `steps`. */
function client(name: string, port: number, steps: string): string {
  return `import socket, ssl
ip = socket.gethostbyname('${name}')
s = socket.create_connection((ip, ${port}), timeout=3)
try:
${steps
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
except Exception as e:
    print('error', type(e).__name__)
`;
}

describe(
  'egress run: TCP that names nothing, judged by the name looked up',
  { skip: WITHOUT_NFT || (process.getuid?.() !== 0 && 'needs root to add an address') },
  () => {
    let dir: string;
    let banner: RawOrigin; // server-first, like SSH or SMTP
    let raw: RawOrigin; // records what arrives (TLS, HTTP)
    let policy: string;

    before(async () => {
      spawnSync('ip', ['addr', 'add', `${ADDRESS}/32`, 'dev', 'lo']);
      dir = sharedTempDir();
      banner = await startRawOrigin(ADDRESS, Buffer.from('SSH-2.0-test\r\n'));
      raw = await startRawOrigin(ADDRESS);
      policy = writePolicy(
        dir,
        `version: 1
name: tcp-names
mode: restrict
default: deny
rules:
  - allow:
      - { host: svc.tcp.test, ports: [${banner.port}, ${raw.port}] }
`,
        'tcp-names.yaml',
      );
    });
    after(async () => {
      await banner?.close();
      await raw?.close();
      spawnSync('ip', ['addr', 'del', `${ADDRESS}/32`, 'dev', 'lo']);
    });

    const run = (script: string, audit: string) =>
      egressRun([
        '--policy',
        policy,
        '--resolve',
        `svc.tcp.test=${ADDRESS}`,
        '--resolve',
        `evil.tcp.test=${ADDRESS}`,
        '--audit-log',
        audit,
        '--',
        'python3',
        '-c',
        script,
      ]);

    it('a server-first protocol to an allowed name and port works, decided by that name', async () => {
      const audit = join(dir, 'banner.ndjson');
      const r = await run(
        client(
          'svc.tcp.test',
          banner.port,
          "print(s.recv(100).decode().strip())\ns.sendall(b'hi')",
        ),
        audit,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'SSH-2.0-test');
      const allowed = readEvents(audit).filter(
        (e) => e.type === 'request.allowed' && e.destination?.port === banner.port,
      );
      assert.equal(allowed.length, 1);
      assert.equal(allowed[0]!.destination?.host, 'svc.tcp.test');
      assert.equal(allowed[0]!.destination?.ip, ADDRESS);
      assert.equal(allowed[0]!.rule?.index, 0);
    });

    it('the same address without looking a name up is judged by the address: denied', async () => {
      const before = banner.connections;
      const audit = join(dir, 'direct.ndjson');
      const r = await run(client(ADDRESS, banner.port, 'print(repr(s.recv(100)))'), audit);
      assert.equal(r.stdout.trim(), "b''");
      assert.equal(banner.connections, before, 'the server never saw the connection');
      const denied = readEvents(audit).filter((e) => e.type === 'request.denied');
      assert.equal(denied.length, 1);
      assert.equal(denied[0]!.reason, 'default_deny');
      assert.match(r.stderr, new RegExp(`${ADDRESS.replaceAll('.', '\\.')}:${banner.port}`));
    });

    it('TLS on a port other than 443 reaches that port (not 443)', async () => {
      const before = raw.received.length;
      const r = await run(
        client(
          'svc.tcp.test',
          raw.port,
          "ssl.create_default_context().wrap_socket(s, server_hostname='svc.tcp.test')",
        ),
        join(dir, 'tls.ndjson'),
      );
      assert.match(r.stdout, /error/); // the raw server never answers the handshake
      const got = Buffer.concat(raw.received.slice(before));
      assert.equal(got[0], 0x16, 'the ClientHello arrived at the port the program chose');
    });

    it('an allowed address cannot carry another name: a denied SNI or Host is refused', async () => {
      const before = raw.received.length;
      const audit = join(dir, 'fronting.ndjson');
      const sni = await run(
        client(
          'svc.tcp.test',
          raw.port,
          "ssl.create_default_context().wrap_socket(s, server_hostname='evil.tcp.test')",
        ),
        audit,
      );
      assert.match(sni.stdout, /error SSLError/);
      const host = await run(
        client(
          'svc.tcp.test',
          raw.port,
          "s.sendall(b'GET / HTTP/1.1\\r\\nHost: evil.tcp.test\\r\\n\\r\\n')\nprint(s.recv(12).decode())",
        ),
        audit,
      );
      assert.equal(host.stdout.trim(), 'HTTP/1.1 403');
      assert.equal(
        Buffer.concat(raw.received.slice(before)).length,
        0,
        'nothing reached the server',
      );
      const reasons = readEvents(audit)
        .filter((e) => e.type === 'request.denied')
        .map((e) => e.reason);
      assert.deepEqual(reasons.sort(), ['host_mismatch', 'sni_mismatch']);
    });

    it('--learn writes the name and port, and the learned policy lets the same program through', async () => {
      const learned = join(dir, 'learned.yaml');
      const script = client(
        'svc.tcp.test',
        banner.port,
        "print(s.recv(100).decode().strip())\ns.sendall(b'hi')",
      );
      const pins = ['--resolve', `svc.tcp.test=${ADDRESS}`];
      const learn = await egressRun(['--learn', learned, ...pins, '--', 'python3', '-c', script]);
      assert.equal(learn.code, 0, learn.stderr);
      assert.equal(learn.stdout.trim(), 'SSH-2.0-test', 'monitor mode lets it through');
      assert.match(learn.stderr, new RegExp(`learn: \\+ svc\\.tcp\\.test:${banner.port}`));
      const enforced = await egressRun([
        '--policy',
        learned,
        ...pins,
        '--',
        'python3',
        '-c',
        script,
      ]);
      assert.equal(enforced.code, 0, enforced.stderr);
      assert.equal(enforced.stdout.trim(), 'SSH-2.0-test');
      assert.doesNotMatch(enforced.stderr, /denied/);
    });
  },
);
