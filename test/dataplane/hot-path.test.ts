/**
 * Behaviour kept by the proxy's hot-path shortcuts: tunnel byte counts taken from the sockets'
 * counters, events skipped only when nobody consumes them, and UUIDv7 ids.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { EventBus } from '../../src/dataplane/events/event-bus.js';
import type { AuditEvent } from '../../src/protocol/audit-event.js';
import { uuidv7 } from '../../src/protocol/event-id.js';
import { runTunnel, type TunnelResult } from '../../src/dataplane/proxy/tunnel.js';

const CLIENT = { workspace: null, session: null, user: null, address: null };

describe('runTunnel byte counts', () => {
  it('counts pending bytes, buffered bytes and relayed bytes each way', async () => {
    // Upstream: answers 5000 bytes once it has read 3000, then closes.
    const upstreamServer = createServer((s) => {
      let got = 0;
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= 3000) s.end(Buffer.alloc(5000, 0x62));
      });
    });
    upstreamServer.listen(0, '127.0.0.1');
    await once(upstreamServer, 'listening');
    const result = new Promise<TunnelResult>((resolve) => {
      const front = createServer(async (client: Socket) => {
        // Read nothing until the upstream is there: the client's first bytes wait in the stream.
        client.pause();
        const upstream = connect((upstreamServer.address() as AddressInfo).port, '127.0.0.1');
        await once(upstream, 'connect');
        await new Promise((r) => setTimeout(r, 50));
        resolve(await runTunnel(client, upstream, 10_000, Buffer.alloc(100, 0x70)));
        front.close();
      });
      front.listen(0, '127.0.0.1', () => {
        const c = connect((front.address() as AddressInfo).port, '127.0.0.1');
        let received = 0;
        c.on('data', (d: Buffer) => (received += d.length));
        c.on('close', () => assert.equal(received, 5000));
        c.write(Buffer.alloc(1000, 0x61));
        setTimeout(() => c.write(Buffer.alloc(1900, 0x61)), 80);
      });
    });
    const r = await result;
    upstreamServer.close();
    assert.deepEqual(
      { bytesIn: r.bytesIn, bytesOut: r.bytesOut },
      { bytesIn: 5000, bytesOut: 3000 },
    );
  });
});

describe('EventBus.active', () => {
  it('is false without a log or listener, and emitLater then does nothing', async () => {
    const bus = new EventBus(null);
    assert.equal(bus.active, false);
    bus.emitLater({ type: 'request.closed', client: CLIENT, description: 'nobody listens' });
    const seen: AuditEvent[] = [];
    const unsubscribe = bus.subscribe((e) => seen.push(e));
    assert.equal(bus.active, true);
    bus.emitLater({ type: 'request.closed', client: CLIENT, description: 'heard' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      seen.map((e) => e.description),
      ['heard'],
    );
    unsubscribe();
    assert.equal(bus.active, false);
  });
});

describe('uuidv7', () => {
  it('has the version 7 and RFC 9562 variant bits and the time in its first 48 bits', () => {
    const ms = 1_763_700_000_123;
    const id = uuidv7(ms);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), ms);
    assert.notEqual(uuidv7(ms), uuidv7(ms));
  });

  it('sorts by time', () => {
    assert.ok(uuidv7(1000) < uuidv7(1001));
    assert.ok(uuidv7(0xfff) < uuidv7(0x1000));
  });
});
