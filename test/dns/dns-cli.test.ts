/** `egress proxy --dns-listen` end to end: the real command, dig, the audit log, SIGTERM. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FakeUpstream, a, dig } from './dns-harness.js';
import { run } from '../helpers/run.js';
import { listenPort, startEgress, type Child } from '../ops/ops-helpers.js';
import { WITHOUT_DIG } from '../helpers/tools.js';

const DNS_READY = 'egress DNS listening on';

describe('egress proxy --dns-listen', () => {
  it(
    'serves DNS by the policy, forwards to --dns-upstream, answers pins, writes dns.query events',
    { skip: WITHOUT_DIG },
    async () => {
      const upstream = await new FakeUpstream('127.0.0.60', {
        records: { 'www.allowed.test': [a('www.allowed.test', '192.0.2.70')] },
      }).start();
      const dir = mkdtempSync(join(tmpdir(), 'egress-dns-cli-'));
      const policy = join(dir, 'policy.yaml');
      const audit = join(dir, 'audit.ndjson');
      writeFileSync(
        policy,
        `version: 1\nname: cli-dns\nmode: restrict\nrules:\n  - allow: ['**.allowed.test']\n`,
      );
      let child: Child | undefined;
      try {
        child = await startEgress(
          [
            'proxy',
            '--policy',
            policy,
            '--listen',
            '127.0.0.1:0',
            '--dns-listen',
            '127.0.0.1:0',
            '--dns-upstream',
            `127.0.0.60:${upstream.port}`,
            '--resolve',
            'pin.allowed.test=127.0.0.7',
            '--audit-log',
            audit,
            '--log-level',
            'error',
          ],
          DNS_READY,
        );
        const port = listenPort(child.stderr(), DNS_READY);
        assert.match(await dig(port, ['www.allowed.test']), /192\.0\.2\.70/);
        assert.match(await dig(port, ['+tcp', 'evil.test']), /status: REFUSED/);
        assert.equal((await dig(port, ['+short', 'pin.allowed.test'])).trim(), '127.0.0.7');
        assert.deepEqual(upstream.names(), ['www.allowed.test']);
        child.process.kill('SIGTERM');
        assert.equal(await child.exited, 0);
        const events = readFileSync(audit, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        const dns = events.filter((e) => e.type === 'dns.query');
        assert.deepEqual(
          dns.map((e) => [e.dns.name, e.dns.rcode, e.destination.transport]),
          [
            ['www.allowed.test', 'NOERROR', 'udp'],
            ['evil.test', 'REFUSED', 'tcp'],
            ['pin.allowed.test', 'NOERROR', 'udp'],
          ],
        );
      } finally {
        child?.process.kill('SIGKILL');
        await upstream.close();
      }
    },
  );

  it('refuses to start without any upstream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-dns-cli-'));
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, `version: 1\nname: cli-dns\nmode: restrict\n`);
    const r = await run(process.execPath, [
      'bin/egress',
      'proxy',
      '--policy',
      policy,
      '--listen',
      '127.0.0.1:0',
      '--dns-listen',
      '127.0.0.1:0',
      '--dns-upstream',
      'not-an-address',
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /must be an IP address/);
  });
});
