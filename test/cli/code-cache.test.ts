/**
 * The bundled CLI's loader: a V8 code cache beside the file, used when V8 accepts it, written
 * when missing or refused, and never a reason to fail. Plus the installed bundle itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { codeCachePath, loadWithCodeCache } from '../../src/cli/code-cache.js';

function bundleIn(dir: string, body: string): string {
  const file = join(dir, 'bundle.cjs');
  writeFileSync(file, body);
  return file;
}

const BODY = `
const { platform } = require('node:os');
exports.answer = () => 6 * 7;
exports.where = () => __filename + '|' + platform();
exports.load = (specifier) => __egressImport(specifier);
`;

describe('code-cache loader', () => {
  it('writes the cache after a first load, then uses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-cc-'));
    const file = bundleIn(dir, BODY);
    const first = loadWithCodeCache<{ answer(): number }>(file);
    assert.equal(first.cache, 'none');
    assert.equal(first.exports.answer(), 42);
    first.saveCacheIfStale();
    assert.ok(existsSync(codeCachePath(file)));
    const second = loadWithCodeCache<{ answer(): number; where(): string }>(file);
    assert.equal(second.cache, 'used');
    assert.equal(second.exports.answer(), 42);
    assert.equal(second.exports.where(), `${file}|linux`);
  });

  it('refuses a damaged cache, still runs, and writes a good one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-cc-'));
    const file = bundleIn(dir, BODY);
    writeFileSync(codeCachePath(file), 'not bytecode at all');
    const loaded = loadWithCodeCache<{ answer(): number }>(file);
    assert.equal(loaded.cache, 'rejected');
    assert.equal(loaded.exports.answer(), 42);
    loaded.saveCacheIfStale();
    assert.equal(loadWithCodeCache(file).cache, 'used');
  });

  it('a cache that cannot be written costs the cache, nothing else', () => {
    // A directory where the cache should be: unreadable as a cache, and no file can replace it
    // (works as root too, unlike a read-only directory).
    const dir = mkdtempSync(join(tmpdir(), 'egress-cc-'));
    const file = bundleIn(dir, BODY);
    mkdirSync(codeCachePath(file));
    const loaded = loadWithCodeCache<{ answer(): number }>(file);
    assert.equal(loaded.cache, 'none');
    assert.equal(loaded.exports.answer(), 42);
    assert.doesNotThrow(() => loaded.saveCacheIfStale());
    assert.deepEqual(readdirSync(dir).sort(), ['bundle.cjs', basename(codeCachePath(file))]);
  });

  it('import() of a module chosen at run time works, with and without the cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-cc-'));
    const file = bundleIn(dir, BODY);
    writeFileSync(join(dir, 'decider.mjs'), 'export default () => "from an ES module";\n');
    const url = `file://${join(dir, 'decider.mjs')}`;
    for (const expected of ['none', 'used'] as const) {
      const loaded = loadWithCodeCache<{ load(s: string): Promise<{ default(): string }> }>(file);
      assert.equal(loaded.cache, expected);
      assert.equal((await loaded.exports.load(url)).default(), 'from an ES module');
      loaded.saveCacheIfStale();
    }
  });
});

describe('the built CLI bundle', () => {
  const bundle = resolve('dist', 'bundle', 'egress.cjs');

  it('is ASCII (read as Latin-1) and has a code cache V8 accepts', (t) => {
    if (!existsSync(bundle)) {
      t.skip('no bundle (esbuild not installed)');
      return;
    }
    assert.ok(existsSync(codeCachePath(bundle)), 'npm run build writes the cache');
    assert.ok(readFileSync(bundle).every((byte) => byte < 0x80));
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { loadWithCodeCache } from './dist/src/cli/code-cache.js';
         const loaded = loadWithCodeCache(${JSON.stringify(bundle)});
         console.log(loaded.cache, typeof loaded.exports.main);`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.stdout.trim(), 'used function', r.stderr);
  });
});
