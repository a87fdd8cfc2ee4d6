/**
 * A client that leaves in the middle of an answer is recorded as a client abort
 * (`request.failed` with reason `client_aborted`), not as an upstream failure (issue 16.9).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startOrigin, startProxy, eventually } from '../helpers/proxy-harness.js';

const POLICY = `version: 1
name: abort
mode: restrict
rules:
  - allow: [slow.test, "127.0.0.2"]
`;

test('a client that aborts a plain HTTP answer is a client abort', async () => {
  // The origin sends its head and a first chunk, then never finishes.
  const origin = await startOrigin('127.0.0.2', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first chunk\n');
  });
  const p = await startProxy(POLICY, { pins: { 'slow.test': '127.0.0.2' } });
  try {
    const client = connect(p.port, '127.0.0.1');
    client.write(
      `GET http://slow.test:${origin.port}/ HTTP/1.1\r\nHost: slow.test:${origin.port}\r\n\r\n`,
    );
    await new Promise<void>((resolve) =>
      client.on('data', (b: Buffer) => {
        if (b.toString().includes('first chunk')) resolve();
      }),
    );
    client.destroy();
    const ends = () =>
      p.events.filter((e) => e.type === 'request.failed' || e.type === 'request.closed');
    await eventually(() => ends().length > 0);
    const last = ends()[0]!;
    assert.equal(last.type, 'request.failed');
    assert.equal(last.reason, 'client_aborted');
    assert.match(last.description ?? '', /client/i);
  } finally {
    await p.close();
    await origin.close();
  }
});
