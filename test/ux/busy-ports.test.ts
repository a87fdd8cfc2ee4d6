/**
 * A port in use for any listener flag exits 1 with one line naming the flag, and leaves no
 * proxy running without DNS or admin (issue 16.5: --dns-listen and --admin-listen printed a
 * stack trace and the proxy kept serving).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/run.js';

const EGRESS = join(process.cwd(), 'bin', 'egress');
let tcp: Server;
let udp: UdpSocket;
let busy: number;
let policy: string;

before(async () => {
  tcp = createServer();
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  busy = (tcp.address() as AddressInfo).port;
  udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(busy, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'egress-busy-'));
  policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'version: 1\nname: busy\nmode: restrict\nrules: []\n');
});
after(() => {
  tcp.close();
  udp.close();
});

const CASES: Array<{ flag: string; args: (port: number) => string[] }> = [
  { flag: '--listen', args: (p) => ['--listen', `127.0.0.1:${p}`] },
  {
    flag: '--dns-listen',
    args: (p) => ['--listen', '127.0.0.1:0', '--dns-listen', `127.0.0.1:${p}`],
  },
  {
    flag: '--admin-listen',
    args: (p) => ['--listen', '127.0.0.1:0', '--admin-listen', `127.0.0.1:${p}`],
  },
  {
    flag: '--socks-listen',
    args: (p) => ['--listen', '127.0.0.1:0', '--socks-listen', `127.0.0.1:${p}`],
  },
  {
    flag: '--dns-listen',
    args: (p) => ['--workers', '2', '--listen', '127.0.0.1:0', '--dns-listen', `127.0.0.1:${p}`],
  },
];

for (const c of CASES) {
  test(`a busy port for ${c.args(0).join(' ')} exits 1 with one line`, async () => {
    const r = await run(
      process.execPath,
      [EGRESS, 'proxy', '--log-level', 'error', '--policy', policy, ...c.args(busy)],
      { timeoutMs: 15_000 },
    );
    assert.equal(r.code, 1, r.stderr);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('egress: '));
    assert.deepEqual(errors, [
      `egress: ${c.flag} 127.0.0.1:${busy}: cannot listen: the port is in use (choose another port, or stop the program holding it)`,
    ]);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  });
}
