import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { compilePolicy } from '../../src/policy/index.js';
import { parseNative } from '../../src/policy/formats/native/parse.js';
import { EventBus } from '../../src/dataplane/events/event-bus.js';
import type { AuditEvent } from '../../src/protocol/audit-event.js';
import { silentLogger } from '../../src/dataplane/log.js';
import { SystemResolver } from '../../src/dataplane/net/resolver.js';
import { WorkspacePolicies } from '../../src/dataplane/proxy/client-identity.js';
import { EgressProxy } from '../../src/dataplane/proxy/proxy-server.js';
import { Socks5Server } from '../../src/dataplane/proxy/socks5.js';
import {
  eventually,
  startOrigin,
  startProxy,
  type Origin,
  type TestProxy,
} from '../helpers/proxy-harness.js';
import {
  RawClient,
  startRawOrigin,
  tlsHandshakeError,
  type RawOrigin,
} from '../helpers/raw-socket.js';
import { expectLifecycle, toHost } from '../helpers/lifecycle.js';
import { curl } from '../helpers/run.js';

const POLICY = `
version: 1
name: socks-test
mode: restrict
rules:
  - allow: [allowed.test, rebind.test, refused.test, "127.0.0.2"]
default: deny
`;

const OPEN_POLICY = `
version: 1
name: open-by-default
mode: restrict
default: allow
`;

const PINS = {
  'allowed.test': '127.0.0.2',
  'denied.test': '127.0.0.2',
  'rebind.test': '127.0.0.1',
  'refused.test': '127.0.0.2',
};

function domainRequest(command: number, host: string, port: number): Buffer {
  const name = Buffer.from(host);
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port);
  return Buffer.concat([Buffer.from([5, command, 0, 3, name.length]), name, p]);
}

function ipv4Request(ip: string, port: number): Buffer {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port);
  return Buffer.concat([Buffer.from([5, 1, 0, 1, ...ip.split('.').map(Number)]), p]);
}

/** Greets with no-auth, sends `request`, returns the client and the reply code. */
async function socksRequest(
  port: number,
  request: Buffer,
): Promise<{ client: RawClient; reply: number }> {
  const client = await RawClient.open(port);
  client.send([5, 1, 0]);
  assert.deepEqual([...(await client.read(2))], [5, 0]);
  client.send(request);
  const head = await client.read(4);
  assert.equal(head[0], 5);
  const rest = head[3] === 4 ? 16 + 2 : 4 + 2;
  await client.read(rest);
  return { client, reply: head[1]! };
}

const denials = (events: AuditEvent[]) => events.filter((e) => e.type === 'request.denied');

describe('SOCKS5 (RFC 1928) through the gate', () => {
  let origin: Origin;
  let proxy: TestProxy;
  let socks: Socks5Server;
  let socksPort: number;

  before(async () => {
    origin = await startOrigin('127.0.0.2');
    proxy = await startProxy(POLICY, { pins: PINS });
    socks = new Socks5Server(proxy.proxy.context, '127.0.0.1', 0);
    proxy.proxy.attach(socks);
    socksPort = (await socks.start()).port;
  });
  after(async () => {
    await proxy.close();
    await origin.close();
  });

  it('curl --socks5-hostname reaches an allowed name, resolved by egress', async () => {
    const before = origin.seen.length;
    const r = await curl([
      '--socks5-hostname',
      `127.0.0.1:${socksPort}`,
      `http://allowed.test:${origin.port}/hello`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /origin GET \/hello/);
    assert.equal(origin.seen.length, before + 1);
    const allowed = proxy.events.find(
      (e) => e.type === 'request.allowed' && e.destination?.host === 'allowed.test',
    );
    assert.equal(allowed?.destination?.ip, '127.0.0.2');
    await expectLifecycle(proxy.events, toHost('allowed.test'), [
      'request.opened',
      'request.allowed',
      'request.closed',
    ]);
  });

  it('curl --socks5-hostname to a denied name gets "not allowed by ruleset" and the origin sees nothing', async () => {
    const before = origin.seen.length;
    const r = await curl([
      '--socks5-hostname',
      `127.0.0.1:${socksPort}`,
      `http://denied.test:${origin.port}/`,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /SOCKS5 connection to denied.test. \(2\)/); // reply 0x02
    assert.equal(origin.seen.length, before);
    const denied = denials(proxy.events).find((e) => e.destination?.host === 'denied.test');
    assert.equal(denied?.reason, 'default_deny');
    await expectLifecycle(proxy.events, toHost('denied.test'), [
      'request.opened',
      'request.denied',
    ]);
  });

  it('curl --socks5 (client-side resolution) is judged by the IPv4 address it sends', async () => {
    const ok = await curl([
      '--socks5',
      `127.0.0.1:${socksPort}`,
      '--resolve',
      `anything.test:${origin.port}:127.0.0.2`,
      `http://anything.test:${origin.port}/ip`,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const before = origin.seen.length;
    const denied = await curl([
      '--socks5',
      `127.0.0.1:${socksPort}`,
      `http://127.0.0.3:${origin.port}/`,
    ]);
    assert.notEqual(denied.code, 0);
    assert.equal(origin.seen.length, before);
    assert.ok(denials(proxy.events).some((e) => e.destination?.host === '127.0.0.3'));
  });

  it('the HTTP port also speaks SOCKS5 (first byte 0x05) and still serves HTTP', async () => {
    const viaSocks = await curl([
      '--socks5-hostname',
      `127.0.0.1:${proxy.port}`,
      `http://allowed.test:${origin.port}/sniffed`,
    ]);
    assert.equal(viaSocks.code, 0, viaSocks.stderr);
    assert.match(viaSocks.stdout, /\/sniffed/);
    const viaHttp = await curl([
      '-x',
      proxy.url,
      `http://allowed.test:${origin.port}/a`,
      `http://allowed.test:${origin.port}/b`,
    ]);
    assert.equal(viaHttp.code, 0, viaHttp.stderr);
    assert.match(viaHttp.stdout, /\/a[\s\S]*\/b/);
    const denied = await curl([
      '-x',
      proxy.url,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `http://denied.test:${origin.port}/`,
    ]);
    assert.equal(denied.stdout, '403');
  });

  it('an optimistic client may send greeting and request in one write', async () => {
    const client = await RawClient.open(socksPort);
    client.send(
      Buffer.concat([Buffer.from([5, 1, 0]), domainRequest(1, 'allowed.test', origin.port)]),
    );
    assert.deepEqual([...(await client.read(2))], [5, 0]);
    const reply = await client.read(10);
    assert.equal(reply[1], 0);
    client.send(
      Buffer.from('GET /pipelined HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n'),
    );
    await client.closed();
    assert.ok(origin.seen.some((s) => s.url === '/pipelined'));
  });

  it('a malformed greeting is closed without an answer', async () => {
    const client = await RawClient.open(socksPort);
    client.send([5, 0]);
    await client.closed();
    assert.equal((await client.read(1)).length, 0);
    const socks4 = await RawClient.open(socksPort);
    socks4.send([4, 1, 0, 80, 127, 0, 0, 2, 0]);
    await socks4.closed();
  });

  it('BIND and UDP ASSOCIATE answer "command not supported" and are recorded as denials', async () => {
    for (const [command, transport] of [
      [2, 'tcp'],
      [3, 'udp'],
    ] as const) {
      const { client, reply } = await socksRequest(
        socksPort,
        domainRequest(command, 'allowed.test', 53),
      );
      assert.equal(reply, 0x07);
      await client.closed();
      const denied = denials(proxy.events).find(
        (e) => e.reason === 'unsupported_command' && e.destination?.transport === transport,
      );
      assert.ok(denied, `a request.denied for command ${command}`);
      assert.match(denied.description, /BIND|UDP ASSOCIATE/);
      await expectLifecycle(proxy.events, (e) => e.requestId === denied.requestId, [
        'request.opened',
        'request.denied',
      ]);
    }
  });

  it('an unknown address type answers 0x08', async () => {
    const { reply } = await socksRequest(socksPort, Buffer.from([5, 1, 0, 9, 0, 0]));
    assert.equal(reply, 0x08);
  });

  it('a name pinned to loopback (DNS rebinding) is denied by class before any byte leaves', async () => {
    const raw = await startRawOrigin('127.0.0.1');
    try {
      const { client, reply } = await socksRequest(
        socksPort,
        domainRequest(1, 'rebind.test', raw.port),
      );
      assert.equal(reply, 0x02);
      await client.closed();
      assert.equal(raw.connections, 0);
      assert.ok(
        denials(proxy.events).some(
          (e) => e.reason === 'ip_class:loopback' && e.destination?.host === 'rebind.test',
        ),
      );
    } finally {
      await raw.close();
    }
  });

  it('an upstream that refuses the connection answers 0x05', async () => {
    const raw = await startRawOrigin('127.0.0.2');
    const port = raw.port;
    await raw.close();
    const { reply } = await socksRequest(socksPort, domainRequest(1, 'refused.test', port));
    assert.equal(reply, 0x05);
    await eventually(() =>
      proxy.events.some((e) => e.type === 'request.failed' && e.reason === 'upstream_refused'),
    );
    await expectLifecycle(proxy.events, toHost('refused.test'), [
      'request.opened',
      'request.allowed',
      'request.failed',
    ]);
  });

  it('a TLS server name the policy denies, inside an allowed tunnel, gets access_denied', async () => {
    const raw = await startRawOrigin('127.0.0.2');
    try {
      const { client, reply } = await socksRequest(
        socksPort,
        domainRequest(1, 'allowed.test', raw.port),
      );
      assert.equal(reply, 0);
      const error = await tlsHandshakeError(client.socket, 'denied.test');
      assert.match(error.message, /access denied|alert/i);
      assert.equal(raw.received.length, 0, 'the origin never saw a byte');
      assert.ok(denials(proxy.events).some((e) => e.reason === 'sni_mismatch'));
      await expectLifecycle(proxy.events, toHost('allowed.test'), [
        'request.opened',
        'request.denied',
      ]);
    } finally {
      await raw.close();
    }
  });
});

describe('SOCKS5 address literals (default allow, IP classes still apply)', () => {
  let proxy: TestProxy;
  let raw: RawOrigin;

  before(async () => {
    raw = await startRawOrigin('127.0.0.1');
    proxy = await startProxy(OPEN_POLICY, { pins: {} });
  });
  after(async () => {
    await proxy.close();
    await raw.close();
  });

  it('an IPv4 loopback literal is denied by class and never dialled', async () => {
    const { client, reply } = await socksRequest(proxy.port, ipv4Request('127.0.0.1', raw.port));
    assert.equal(reply, 0x02);
    await client.closed();
    assert.equal(raw.connections, 0);
    assert.equal(denials(proxy.events).at(-1)?.reason, 'ip_class:loopback');
  });

  it('an IPv6 literal is parsed and judged (::1 is loopback)', async () => {
    const v6 = Buffer.concat([
      Buffer.from([5, 1, 0, 4]),
      Buffer.alloc(15),
      Buffer.from([1, 0, 80]),
    ]);
    const { reply } = await socksRequest(proxy.port, v6);
    assert.equal(reply, 0x02);
    const last = denials(proxy.events).at(-1);
    assert.equal(last?.destination?.host, '::1');
    assert.equal(last?.reason, 'ip_class:loopback');
  });
});

describe('SOCKS5 username/password selects the workspace (RFC 1929)', () => {
  let origin: Origin;
  let proxy: EgressProxy;
  let events: AuditEvent[];

  before(async () => {
    origin = await startOrigin('127.0.0.2');
    const compile = (yaml: string) =>
      compilePolicy(parseNative({ text: yaml, file: 'ws.yaml' }).policy);
    const policies = new WorkspacePolicies([
      { workspace: 'ws-a', token: 'token-a', compiled: compile(POLICY) },
      {
        workspace: 'ws-b',
        token: 'token-b',
        compiled: compile('version: 1\nname: nothing\nmode: restrict\ndefault: deny\n'),
      },
    ]);
    const bus = new EventBus(null);
    events = [];
    bus.subscribe((e) => events.push(e));
    proxy = new EgressProxy({
      host: '127.0.0.1',
      port: 0,
      policies,
      resolver: new SystemResolver({
        pins: new Map([['allowed.test', ['127.0.0.2']]]),
        pinnedOnly: true,
      }),
      bus,
      log: silentLogger(),
    });
    await proxy.start();
  });
  after(async () => {
    await proxy.close();
    await origin.close();
  });

  const url = () => `http://allowed.test:${origin.port}/ws`;
  const socks = () => `127.0.0.1:${proxy.address.port}`;

  it('user = workspace, password = token: that workspace and its policy', async () => {
    const a = await curl(['-U', 'ws-a:token-a', '--socks5-hostname', socks(), url()]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(events.find((e) => e.type === 'request.allowed')?.workspace, 'ws-a');
    const b = await curl(['-U', 'ws-b:token-b', '--socks5-hostname', socks(), url()]);
    assert.notEqual(b.code, 0);
    assert.equal(events.find((e) => e.type === 'request.denied')?.workspace, 'ws-b');
  });

  it('a wrong token or no credentials never reaches the origin', async () => {
    const before = origin.seen.length;
    const wrong = await curl(['-U', 'ws-a:nope', '--socks5-hostname', socks(), url()]);
    assert.notEqual(wrong.code, 0);
    const none = await curl(['--socks5-hostname', socks(), url()]);
    assert.notEqual(none.code, 0);
    assert.equal(origin.seen.length, before);
  });
});
