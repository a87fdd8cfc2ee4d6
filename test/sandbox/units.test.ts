/** The sandbox's pure parts: nft set parsing, the summary, terminal detection, resolv.conf. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { newDrops, parseDroppedSet } from '../../src/dataplane/sandbox/inside/parse-nft.js';
import { renderSummary, type Denial } from '../../src/dataplane/sandbox/report/summary.js';
import { inForegroundOfTerminal } from '../../src/dataplane/sandbox/host/signals.js';
import { sandboxResolvConf } from '../../src/dataplane/sandbox/host/run-files.js';
import { userNamespaceBlocker } from '../../src/dataplane/sandbox/host/launcher.js';
import { sandboxEnv } from '../../src/dataplane/sandbox/host/env.js';

describe('sandbox units', () => {
  it('parses nft -j set listings with per-element counters', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        {
          set: {
            name: 'udp4',
            elem: [
              { elem: { val: { concat: ['9.9.9.9', 9999] }, counter: { packets: 3, bytes: 87 } } },
              { concat: ['1.2.3.4', 53] },
            ],
          },
        },
      ],
    });
    const drops = parseDroppedSet(json);
    assert.deepEqual(drops, [
      { ip: '9.9.9.9', port: 9999, packets: 3 },
      { ip: '1.2.3.4', port: 53, packets: 1 },
    ]);
    assert.deepEqual(parseDroppedSet('not json'), []);
    // A whole-table listing: only the named sets count.
    assert.deepEqual(parseDroppedSet(json, new Set(['udp6'])), []);
    assert.equal(parseDroppedSet(json, new Set(['udp4', 'udp6'])).length, 2);
    assert.deepEqual(newDrops([{ ip: '9.9.9.9', port: 9999, packets: 3 }], drops), [
      { ip: '1.2.3.4', port: 53, packets: 1 },
    ]);
  });

  it('renders one line per denied destination with the line to allow it; nothing when none', () => {
    assert.equal(renderSummary([], 'p'), '');
    const denials: Denial[] = [
      {
        kind: 'connection',
        host: 'evil.test',
        port: 443,
        transport: 'tcp',
        count: 2,
        enforced: true,
        reason: 'denied_by_rule',
        rule: { index: 0, kind: 'deny', source: 'p.yaml:5:9' },
      },
      {
        kind: 'connection',
        host: 'x.test',
        port: 80,
        transport: 'tcp',
        count: 1,
        enforced: false,
        reason: 'default_deny',
        rule: null,
      },
    ];
    const text = renderSummary(denials, 'p');
    assert.match(text, /policy "p" denied 1 destination:/);
    assert.match(text, /evil\.test:443 +2 connections, rule 1 \(deny at p\.yaml:5:9\)/);
    // A deny rule denied it: the advice is to change that rule (issue 16.6), not to append an allow.
    assert.match(
      text,
      /to allow: change deny rule 1 at p\.yaml:5:9 .*or put - allow: \["evil\.test:443"\] above it/,
    );
    assert.match(text, /to allow: - allow: \["x\.test:80"\]/);
    assert.match(text, /would deny 1 destination \(monitor mode/);
  });

  it('tells a terminal foreground process group from the rest', () => {
    // pid (comm) state ppid pgrp session tty_nr tpgid ...
    assert.equal(inForegroundOfTerminal('10 (node (x)) S 1 10 10 34816 10 0'), true);
    assert.equal(inForegroundOfTerminal('10 (node) S 1 10 10 34816 99 0'), false);
    assert.equal(inForegroundOfTerminal('10 (node) S 1 10 10 0 -1 0'), false);
  });

  it('keeps search and options from the host resolv.conf, never its nameservers', () => {
    const text = sandboxResolvConf('nameserver 10.0.0.2\nsearch corp.example\noptions ndots:2\n');
    assert.match(text, /^nameserver 127\.0\.0\.1$/m);
    assert.doesNotMatch(text, /10\.0\.0\.2/);
    assert.match(text, /^search corp\.example$/m);
    assert.match(text, /^options ndots:2$/m);
  });

  it('names the kernel setting that blocks user namespaces', () => {
    const settings = (values: Record<string, string>) => (path: string) => values[path] ?? null;
    assert.match(
      userNamespaceBlocker(settings({ '/proc/sys/user/max_user_namespaces': '0' }))!,
      /user\.max_user_namespaces/,
    );
    assert.match(
      userNamespaceBlocker(settings({ '/proc/sys/kernel/unprivileged_userns_clone': '0' }))!,
      /kernel\.unprivileged_userns_clone/,
    );
    assert.equal(userNamespaceBlocker(settings({})), null);
  });

  it('sets the proxy variables in both cases and the CA variables only in inspect mode', () => {
    const plain = sandboxEnv({ PATH: '/bin' }, null);
    assert.equal(plain.HTTPS_PROXY, 'http://127.0.0.1:15001');
    assert.equal(plain.https_proxy, plain.HTTPS_PROXY);
    assert.equal(plain.no_proxy, 'localhost,127.0.0.1,::1');
    assert.equal(plain.SSL_CERT_FILE, undefined);
    const inspect = sandboxEnv({}, { caCert: '/r/ca.pem', bundle: '/r/bundle.pem' });
    assert.equal(inspect.NODE_EXTRA_CA_CERTS, '/r/ca.pem');
    assert.equal(inspect.GIT_SSL_CAINFO, '/r/bundle.pem');
  });
});
