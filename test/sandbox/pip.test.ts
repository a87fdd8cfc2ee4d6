/**
 * `pip download` inside `egress run` from a local package index (PEP 503 "simple" layout served
 * on loopback): works when the policy allows the index, is refused (and explained) when not.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type Origin } from '../helpers/proxy-harness.js';
import { egressRun, restrictPolicy, sharedTempDir, writePolicy } from '../helpers/sandbox.js';

const WHEEL = 'egresstoy-0.1.0-py3-none-any.whl';

/** Builds a minimal valid wheel with Python's zipfile (no network, no build tools). */
function buildWheel(dir: string): string {
  const path = join(dir, WHEEL);
  const script = `
import sys, zipfile, hashlib, base64
files = {
  'egresstoy/__init__.py': b'VERSION = "0.1.0"\\n',
  'egresstoy-0.1.0.dist-info/METADATA': b'Metadata-Version: 2.1\\nName: egresstoy\\nVersion: 0.1.0\\n',
  'egresstoy-0.1.0.dist-info/WHEEL': b'Wheel-Version: 1.0\\nGenerator: egress-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
}
record = []
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for name, data in files.items():
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append(f'{name},sha256={digest},{len(data)}')
    record.append('egresstoy-0.1.0.dist-info/RECORD,,')
    z.writestr('egresstoy-0.1.0.dist-info/RECORD', '\\n'.join(record) + '\\n')
`;
  execFileSync('python3', ['-c', script, path]);
  return path;
}

describe('egress run: pip download from a local index', () => {
  let dir: string;
  let index: Origin;
  let wheel: Buffer;

  before(async () => {
    dir = sharedTempDir();
    wheel = readFileSync(buildWheel(dir));
    index = await startOrigin('127.0.0.2', (req, res) => {
      if (req.url === '/simple/egresstoy/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!DOCTYPE html><html><body><a href="/files/${WHEEL}">${WHEEL}</a></body></html>`);
      } else if (req.url === `/files/${WHEEL}`) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(wheel);
      } else res.writeHead(404).end();
    });
  });
  after(async () => index.close());

  const pip = (target: string) => [
    'python3',
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--disable-pip-version-check',
    '--no-cache-dir',
    '--index-url',
    `http://pypi.test:${index.port}/simple/`,
    // A plain-HTTP index must be named trusted; a real mirror would be HTTPS.
    '--trusted-host',
    'pypi.test',
    '-d',
    target,
    'egresstoy',
  ];
  // The machine's pip.conf points at local wheel folders; the test must use only the index.
  const env = { ...process.env, PIP_CONFIG_FILE: '/dev/null' };

  it('downloads the package when the policy allows the index', async () => {
    const policy = writePolicy(dir, restrictPolicy('      - pypi.test\n'), 'pip-allow.yaml');
    const target = join(dir, 'dl-ok');
    const r = await egressRun(
      ['--policy', policy, '--resolve', 'pypi.test=127.0.0.2', '--', ...pip(target)],
      { env, timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(target), [WHEEL]);
  });

  it('fails, and the summary names the index and the line to add, when it does not', async () => {
    const policy = writePolicy(dir, restrictPolicy(), 'pip-deny.yaml');
    const before = index.seen.length;
    const r = await egressRun(
      [
        '--policy',
        policy,
        '--resolve',
        'pypi.test=127.0.0.2',
        '--',
        ...pip(join(dir, 'dl-no')),
        '--retries',
        '0',
        '--timeout',
        '5',
      ],
      { env, timeoutMs: 60_000 },
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pypi\.test/);
    assert.equal(index.seen.length, before, 'the index saw nothing');
  });
});
