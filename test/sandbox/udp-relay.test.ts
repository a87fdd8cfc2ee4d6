/**
 * Fly-style UDP allow rules through the sandbox's UDP relay: UDP echo servers outside on the
 * host's loopback (127.0.0.4, ::1) answer a program inside when the policy allows the address
 * and port (by an exact address, a range, any port of an address), and a port-only rule (a
 * Fly network policy) never opens an address class the policy denies. Every flow is an event.
 */
import { strict as assert } from 'node:assert';
import { createSocket, type Socket } from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { egressRun, readEvents, sharedTempDir, writePolicy } from '../helpers/sandbox.js';
import { WITHOUT_NFT } from '../helpers/tools.js';

const policyWith = (rules: string, extra = '') => `version: 1
name: udp-test
mode: restrict
default: deny
rules:
${rules}${extra}`;

/** A UDP echo server on `address` (records what it received). */
async function echoServer(address: string, received: string[]): Promise<Socket> {
  const echo = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  echo.on('message', (msg, from) => {
    received.push(msg.toString());
    echo.send(Buffer.concat([Buffer.from('echo:'), msg]), from.port, from.address);
  });
  await new Promise<void>((resolve) => echo.bind(0, address, resolve));
  return echo;
}

/**
 * A Python client inside: one socket sends each (text, host, port) in turn and prints the
 * answer and the address it came from, or "no answer" / the error.
 */
function client(sends: Array<[string, string, number]>): string {
  const family = sends.some(([, host]) => host.includes(':')) ? 'AF_INET6' : 'AF_INET';
  const list = sends.map(([t, h, p]) => `(b'${t}', '${h}', ${p})`).join(', ');
  return `import socket
s = socket.socket(socket.${family}, socket.SOCK_DGRAM); s.settimeout(1)
for text, host, port in [${list}]:
    try:
        s.sendto(text, (host, port)); m, a = s.recvfrom(100)
        print(m.decode(), a[0], a[1])
    except OSError as e:
        print('no answer' if isinstance(e, socket.timeout) else 'error %d' % e.errno)
`;
}

describe('egress run: UDP relay for UDP allow rules', { skip: WITHOUT_NFT }, () => {
  let dir: string;
  const received: string[] = [];
  let echoA: Socket;
  let echoB: Socket;
  let portA: number;
  let portB: number;

  before(async () => {
    dir = sharedTempDir();
    echoA = await echoServer('127.0.0.4', received);
    echoB = await echoServer('127.0.0.4', received);
    portA = echoA.address().port;
    portB = echoB.address().port;
  });
  after(() => {
    echoA.close();
    echoB.close();
  });

  it('relays to any port of a named address; one socket may talk to several destinations', async () => {
    received.length = 0;
    // Names the host's loopback address (the address class needs that), with no ports: the
    // relay learns each datagram's destination from nftables, not from its own port.
    const policy = writePolicy(
      dir,
      policyWith('  - allow:\n      - { cidr: 127.0.0.4, transport: udp }\n'),
      'udp-any-port.yaml',
    );
    const audit = join(dir, 'udp-any-port.ndjson');
    const r = await egressRun([
      '--policy',
      policy,
      '--audit-log',
      audit,
      '--',
      'python3',
      '-c',
      client([
        ['one', '127.0.0.4', portA],
        ['two', '127.0.0.4', portB],
        ['three', '127.0.0.4', portA],
      ]),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `echo:one 127.0.0.4 ${portA}`,
      `echo:two 127.0.0.4 ${portB}`,
      `echo:three 127.0.0.4 ${portA}`,
    ]);
    assert.deepEqual(received, ['one', 'two', 'three']);
    const events = readEvents(audit).filter((e) => e.destination?.transport === 'udp');
    const allowed = events.filter((e) => e.type === 'request.allowed');
    assert.deepEqual(allowed.map((e) => e.destination?.port).sort(), [portA, portB].sort());
    assert.ok(allowed.every((e) => e.rule?.index === 0 && e.reason === 'allowed_by_rule'));
    const closed = events.filter((e) => e.type === 'request.closed');
    assert.equal(closed.length, 2);
    assert.ok(closed.every((e) => (e.bytesOut ?? 0) > 0 && (e.bytesIn ?? 0) > 0));
  });

  it('a Fly port rule allows any address on its port, but not the classes the policy denies', async () => {
    received.length = 0;
    const fly = writePolicy(
      dir,
      JSON.stringify({
        name: 'fly-udp',
        selector: { all: true },
        rules: [
          {
            action: 'allow',
            direction: 'egress',
            ports: [
              { protocol: 'tcp', port: 443 },
              { protocol: 'udp', port: portA },
            ],
          },
        ],
      }),
      'fly-udp.json',
    );
    const audit = join(dir, 'fly-udp.ndjson');
    const r = await egressRun([
      '--policy',
      fly,
      '--from',
      'fly',
      '--audit-log',
      audit,
      '--',
      'python3',
      '-c',
      client([
        ['metadata', '169.254.169.254', portA],
        ['private', '10.1.2.3', portA],
        ['other-port', '203.0.113.9', portA + 1],
        // The sandbox's own loopback: a port rule does not send it to the host.
        ['own-loopback', '127.0.0.4', portA],
      ]),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['no answer', 'no answer']);
    assert.equal(lines[2], 'error 1', 'a port no rule allows is refused at once (EPERM)');
    assert.equal(lines[3], 'no answer');
    assert.deepEqual(received, []);
    const dropped = readEvents(audit).filter((e) => e.type === 'udp.dropped');
    const byHost = new Map(dropped.map((e) => [e.destination?.ip, e]));
    assert.equal(byHost.get('169.254.169.254')?.reason, 'ip_class:metadata');
    assert.equal(byHost.get('10.1.2.3')?.reason, 'ip_class:private');
    // The event names the port rule that matched before the address class denied.
    assert.match(byHost.get('169.254.169.254')?.rule?.source ?? '', /fly-udp\.json/);
    assert.equal(byHost.get('203.0.113.9')?.reason, 'default_deny');
    assert.equal(byHost.get('203.0.113.9')?.destination?.port, portA + 1);
    assert.ok(!readEvents(audit).some((e) => e.type === 'request.allowed'));
    assert.match(r.stderr, /169\.254\.169\.254:\d+\/udp/);
  });

  it('relays IPv6 to a port range of a named address', async (t) => {
    if (!existsSync('/proc/sys/net/ipv6/conf/lo')) return t.skip('no IPv6');
    const got: string[] = [];
    const echo6 = await echoServer('::1', got);
    const port = echo6.address().port;
    try {
      const policy = writePolicy(
        dir,
        policyWith(
          `  - allow:\n      - { cidr: "::1", ports: [${port}-${port + 5}], transport: udp }\n`,
        ),
        'udp6.yaml',
      );
      const r = await egressRun([
        '--policy',
        policy,
        '--',
        'python3',
        '-c',
        client([
          ['six', '::1', port],
          ['again', '::1', port],
        ]),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [
        `echo:six ::1 ${port}`,
        `echo:again ::1 ${port}`,
      ]);
      assert.deepEqual(got, ['six', 'again']);
    } finally {
      echo6.close();
    }
  });

  it('without a UDP rule nothing reaches the server', async () => {
    received.length = 0;
    const policy = writePolicy(
      dir,
      policyWith('  - allow:\n      - "127.0.0.2"\n'),
      'udp-none.yaml',
    );
    const r = await egressRun([
      '--policy',
      policy,
      '--',
      'python3',
      '-c',
      client([['blocked', '127.0.0.4', portA]]),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'no answer');
    assert.deepEqual(received, []);
  });
});

/**
 * UDP rules with host names (patterns and exact names): the relay decides a flow by the name the
 * program looked up through the sandbox's DNS. The server needs an address outside the denied
 * classes, so a TEST-NET-2 address is added to the host's loopback interface for the test
 * (root only; nothing leaves the machine).
 */
describe(
  'egress run: UDP rules by host name',
  { skip: WITHOUT_NFT || (process.getuid?.() !== 0 && 'needs root to add an address') },
  () => {
    const address = '198.51.100.53';
    let dir: string;
    const received: string[] = [];
    let echo: Socket;
    let port: number;

    before(async () => {
      spawnSync('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
      dir = sharedTempDir();
      echo = await echoServer(address, received);
      port = echo.address().port;
    });
    after(() => {
      echo?.close();
      spawnSync('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']);
    });

    const lookThenSend = (name: string) => `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
try:
    ip = socket.getaddrinfo('${name}', None, socket.AF_INET, socket.SOCK_DGRAM)[0][4][0]
except OSError as e:
    print('lookup failed'); raise SystemExit(0)
try:
    s.sendto(b'hello', (ip, PORT)); m, a = s.recvfrom(100); print(m.decode(), a[0])
except OSError:
    print('no answer')
`;

    it('a pattern rule relays a flow to the address the sandbox DNS gave for a matching name', async () => {
      received.length = 0;
      const policy = writePolicy(
        dir,
        policyWith(
          `  - allow:\n      - { host: "*.udp.test", ports: [${port}], transport: udp }\n`,
        ),
        'udp-pattern.yaml',
      );
      const audit = join(dir, 'udp-pattern.ndjson');
      const run = (script: string) =>
        egressRun([
          '--policy',
          policy,
          '--resolve',
          `echo.udp.test=${address}`,
          '--resolve',
          `other.test=${address}`,
          '--audit-log',
          audit,
          '--',
          'python3',
          '-c',
          script.replace('PORT', String(port)),
        ]);
      const byName = await run(lookThenSend('echo.udp.test'));
      assert.equal(byName.code, 0, byName.stderr);
      assert.equal(byName.stdout.trim(), `echo:hello ${address}`);
      assert.deepEqual(received, ['hello']);
      const allowed = readEvents(audit).filter(
        (e) => e.type === 'request.allowed' && e.destination?.transport === 'udp',
      );
      assert.equal(allowed.length, 1);
      assert.equal(allowed[0]!.destination?.host, 'echo.udp.test');
      assert.equal(allowed[0]!.destination?.ip, address);
      assert.equal(allowed[0]!.rule?.index, 0);

      // The same address without asking the DNS for an allowed name: judged by the address alone.
      received.length = 0;
      const direct = await run(client([['straight', address, port]]));
      assert.equal(direct.stdout.trim(), 'no answer');
      // A name the pattern does not match is refused by the DNS, so it never names the address.
      const other = await run(lookThenSend('other.test'));
      assert.equal(other.stdout.trim(), 'lookup failed');
      assert.deepEqual(received, []);
      const dropped = readEvents(audit).filter((e) => e.type === 'udp.dropped');
      assert.ok(
        dropped.some((e) => e.destination?.ip === address && e.reason === 'default_deny'),
        JSON.stringify(dropped.map((e) => [e.destination, e.reason])),
      );
    });

    it('an exact-name rule relays to the address of the name, on its port', async () => {
      received.length = 0;
      const policy = writePolicy(
        dir,
        policyWith(
          `  - allow:\n      - { host: ntp.udp.test, ports: [${port}], transport: udp }\n`,
        ),
        'udp-exact.yaml',
      );
      const r = await egressRun([
        '--policy',
        policy,
        '--resolve',
        `ntp.udp.test=${address}`,
        '--',
        'python3',
        '-c',
        lookThenSend('ntp.udp.test').replace('PORT', String(port)),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `echo:hello ${address}`);
      assert.deepEqual(received, ['hello']);
    });
  },
);
