/**
 * `egress run --learn` to a path it cannot write fails before the command runs (issue 16.9:
 * it failed only after the whole command had run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/run.js';

test('--learn to an unwritable path exits 2 before the command runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-learn-'));
  const marker = join(dir, 'ran');
  const r = await run(process.execPath, [
    join(process.cwd(), 'bin', 'egress'),
    'run',
    '--learn',
    join(dir, 'missing-folder', 'learned.yaml'),
    '--',
    'touch',
    marker,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--learn .*learned\.yaml: cannot write there \(ENOENT\)/);
  assert.equal(existsSync(marker), false, 'the command must not run');
});
