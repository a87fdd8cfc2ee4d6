/**
 * `egress run --learn`: curl and git reach local servers in monitor mode; the written policy
 * (grouped: two python hosts → ecosystem:python; exact hosts; addresses the names resolved to)
 * then lets the same command pass in restrict mode, and a new destination is denied.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type Origin } from '../helpers/proxy-harness.js';
import { egressRun, servedGitRepo, sharedTempDir, writePolicy } from '../helpers/sandbox.js';
import { parseNative } from '../../src/policy/formats/native/parse.js';
import { learnPolicy, type Observation } from '../../src/policy/learn/learned-policy.js';

describe('egress run --learn', () => {
  let dir: string;
  let origin: Origin;
  const pins = ['pypi.org', 'files.pythonhosted.org', 'git.test', 'other.test', 'new.test'].flatMap(
    (name) => ['--resolve', `${name}=127.0.0.2`],
  );

  before(async () => {
    dir = sharedTempDir();
    servedGitRepo(dir);
    origin = await startOrigin('127.0.0.2', (req, res) => {
      const path = normalize(join(dir, 'served', decodeURIComponent(req.url!.split('?')[0]!)));
      if (
        !path.startsWith(join(dir, 'served')) ||
        !existsSync(path) ||
        statSync(path).isDirectory()
      ) {
        res.writeHead(req.url === '/' ? 200 : 404).end('ok\n');
        return;
      }
      res.writeHead(200).end(readFileSync(path));
    });
  });
  after(async () => origin.close());

  const script = (clone: string, extra = '') =>
    `set -e; curl -sf -o /dev/null http://pypi.org:${origin.port}/; ` +
    `curl -sf -o /dev/null http://files.pythonhosted.org:${origin.port}/; ` +
    `curl -sf -o /dev/null http://other.test:${origin.port}/; ` +
    `git clone -q http://git.test:${origin.port}/repo.git ${clone}; cat ${clone}/README; ${extra}`;

  it('learns in monitor mode, then the learned policy lets the same command pass in restrict mode', async () => {
    const out = join(dir, 'learned.yaml');
    const learn = await egressRun([
      '--learn',
      out,
      ...pins,
      '--',
      'sh',
      '-c',
      script(join(dir, 'c1')),
    ]);
    assert.equal(learn.code, 0, learn.stderr);
    assert.equal(learn.stdout, 'hello\n');
    // Progress: one line per new destination, not per connection (git makes several).
    const progress = learn.stderr.split('\n').filter((l) => l.startsWith('egress: learn: +'));
    assert.deepEqual(progress.sort(), [
      `egress: learn: + files.pythonhosted.org:${origin.port}`,
      `egress: learn: + git.test:${origin.port}`,
      `egress: learn: + other.test:${origin.port}`,
      `egress: learn: + pypi.org:${origin.port}`,
    ]);
    assert.match(learn.stderr, /wrote .*learned\.yaml: 4 learned entries/);

    const yaml = readFileSync(out, 'utf8');
    const policy = parseNative({ text: yaml, file: out }).policy;
    assert.equal(policy.mode, 'restrict');
    assert.equal(policy.default, 'deny');
    const learned = policy.rules.find((r) => r.name === 'learned')!;
    const written = learned.selectors.map((s) => s.ecosystem ?? s.host ?? s.cidr);
    assert.deepEqual(written, ['python', 'git.test', 'other.test', '127.0.0.2']);
    assert.ok(learned.selectors.every((s) => s.ports?.[0]?.from === origin.port));
    assert.match(
      yaml,
      /# \d+ connections?, first seen [0-9T:.-]+Z: files\.pythonhosted\.org, pypi\.org/,
    );

    const again = await egressRun([
      '--policy',
      out,
      ...pins,
      '--',
      'sh',
      '-c',
      script(
        join(dir, 'c2'),
        `curl -s -o /dev/null -w '%{http_code}\\n' http://new.test:${origin.port}/`,
      ),
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'hello\n403\n');
    assert.match(again.stderr, /denied 1 destination/);
    assert.match(again.stderr, /new\.test:\d+ +1 connection, the default \(deny\)/);
    rmSync(join(dir, 'c1'), { recursive: true, force: true });
  });

  it('starts from a given policy: its rules stay, only what it would deny is learned', async () => {
    const base = writePolicy(
      dir,
      `version: 1
name: base
mode: restrict
default: deny
rules:
  - allow: ["other.test", "127.0.0.2"]
`,
      'base.yaml',
    );
    const out = join(dir, 'from-base.yaml');
    const r = await egressRun([
      '--learn',
      out,
      '--policy',
      base,
      ...pins,
      '--',
      'sh',
      '-c',
      `curl -sf -o /dev/null http://other.test:${origin.port}/ && curl -sf -o /dev/null http://new.test:${origin.port}/`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const policy = parseNative({ text: readFileSync(out, 'utf8'), file: out }).policy;
    assert.equal(policy.name, 'base');
    assert.equal(policy.rules.length, 2);
    assert.deepEqual(
      policy.rules[1]!.selectors.map((s) => s.host),
      ['new.test'],
    );
  });
});

describe('learnPolicy (grouping rules)', () => {
  const at = '2026-01-01T00:00:00.000Z';
  const conn = (host: string, port = 443, ips: string[] = []): Observation => ({
    kind: 'connection',
    host,
    port,
    ips,
    count: 1,
    firstSeen: at,
  });

  it('one registry host stays exact; two hosts of one ecosystem become the ecosystem', () => {
    const one = learnPolicy([conn('pypi.org')]);
    assert.deepEqual(
      one.entries.map((e) => e.selector),
      [{ host: 'pypi.org' }],
    );
    const two = learnPolicy([conn('pypi.org'), conn('files.pythonhosted.org', 80)]);
    assert.deepEqual(
      two.entries.map((e) => e.selector),
      [{ ecosystem: 'python' }],
    );
  });

  it('keeps ports other than 80/443, writes IP entries for literal addresses, UDP by address or name', () => {
    const r = learnPolicy([
      conn('example.com', 8443),
      conn('example.com', 443),
      conn('203.0.113.7', 443),
      { kind: 'udp', host: '198.51.100.9', port: 3478, ips: [], count: 4, firstSeen: at },
      { kind: 'udp', host: 'time.example', port: 123, ips: [], count: 2, firstSeen: at },
      { kind: 'dns', host: 'probe.example', port: 0, ips: [], count: 1, firstSeen: at },
    ]);
    assert.deepEqual(
      r.entries.map((e) => e.selector),
      [
        { cidr: '203.0.113.7' },
        {
          host: 'example.com',
          ports: [
            { from: 443, to: 443 },
            { from: 8443, to: 8443 },
          ],
        },
        { cidr: '198.51.100.9', ports: [{ from: 3478, to: 3478 }], transport: 'udp' },
        { host: 'time.example', ports: [{ from: 123, to: 123 }], transport: 'udp' },
      ],
    );
    assert.deepEqual(r.lookupsOnly, ['probe.example']);
    assert.equal(r.stillDenied.length, 0);
  });

  it('adds the address of a name that resolved into a denied address class', () => {
    const r = learnPolicy([conn('internal.example', 443, ['10.1.2.3'])]);
    assert.deepEqual(
      r.entries.map((e) => e.selector),
      [{ host: 'internal.example' }, { cidr: '10.1.2.3' }],
    );
    assert.equal(r.stillDenied.length, 0);
  });
});
