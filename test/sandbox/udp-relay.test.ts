/**
 * Fly-style UDP allow rules: a UDP echo server outside (127.0.0.4) is reachable from inside the
 * sandbox when the policy allows exactly that address and port, and not otherwise.
 */
import { strict as assert } from 'node:assert';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { egressRun, readEvents, sharedTempDir, writePolicy } from '../helpers/sandbox.js';
import { nftRuleset } from '../../src/dataplane/sandbox/netns-rules.js';

const policyWith = (rule: string) => `version: 1
name: udp-test
mode: restrict
default: deny
rules:
  - allow:
      - "127.0.0.2"
${rule}`;

describe('egress run: UDP relay for allowed UDP destinations', () => {
  let echo: Socket;
  let port: number;
  let received: string[];
  let dir: string;

  before(async () => {
    dir = sharedTempDir();
    received = [];
    echo = createSocket('udp4');
    echo.on('message', (msg, from) => {
      received.push(msg.toString());
      echo.send(Buffer.concat([Buffer.from('echo:'), msg]), from.port, from.address);
    });
    await new Promise<void>((resolve) => echo.bind(0, '127.0.0.4', resolve));
    port = echo.address().port;
  });
  after(() => echo.close());

  const send = (text: string, toPort: number) =>
    `python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)\n` +
    `try:\n  s.sendto(b'${text}', ('127.0.0.4', ${toPort})); print(s.recvfrom(100)[0].decode())\n` +
    `except OSError as e: print('no answer')"`;

  it('relays datagrams to exactly the allowed address and port, and the replies back', async () => {
    const policy = writePolicy(
      dir,
      policyWith(`      - { cidr: 127.0.0.4, ports: ${port}, transport: udp }\n`),
      'udp-allow.yaml',
    );
    const audit = join(dir, 'udp-allow.ndjson');
    const r = await egressRun([
      '--policy',
      policy,
      '--audit-log',
      audit,
      '--',
      'sh',
      '-c',
      `${send('one', port)}; ${send('two', port)}; ${send('other-port', port + 1)}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['echo:one', 'echo:two', 'no answer']);
    assert.deepEqual(received, ['one', 'two']);
    const relayed = readEvents(audit).filter(
      (e) => e.type === 'request.allowed' && e.destination?.transport === 'udp',
    );
    assert.ok(relayed.length >= 1);
    assert.equal(relayed[0]!.destination?.port, port);
  });

  it('without a UDP rule nothing reaches the server', async () => {
    received.length = 0;
    const policy = writePolicy(dir, policyWith(''), 'udp-none.yaml');
    const r = await egressRun(['--policy', policy, '--', 'sh', '-c', send('blocked', port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'no answer');
    assert.deepEqual(received, []);
  });

  it('says which UDP rules it cannot relay (ranges), and keeps dropping them', async () => {
    const policy = writePolicy(
      dir,
      policyWith('      - { cidr: 10.0.0.0/8, ports: 5000, transport: udp }\n'),
      'udp-range.yaml',
    );
    const r = await egressRun(['--policy', policy, '--', 'true']);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /the UDP rule at .*udp-range\.yaml:\d+ is not relayed/);
  });

  it('the nft rules redirect each relayed destination to its own relay port', () => {
    const rules = nftRuleset([
      { ip: '203.0.113.5', port: 3478, family: 4, relayPort: 15100 },
      { ip: '2001:db8::5', port: 3478, family: 6, relayPort: 15101 },
    ]);
    assert.match(rules, /ip daddr 203\.0\.113\.5 udp dport 3478 redirect to :15100/);
    assert.match(rules, /ip6 daddr 2001:db8::5 udp dport 3478 redirect to :15101/);
    assert.ok(rules.indexOf('redirect to :15100') < rules.indexOf('ip daddr 127.0.0.0/8 return'));
  });
});
