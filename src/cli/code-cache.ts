/**
 * Loads the bundled CLI (one CommonJS file) with a V8 code cache kept beside it.
 *
 * Compiling the ~2.8 MB bundle is a third of `egress run`'s start-up; with the bytecode V8
 * wrote after an earlier run, loading takes a fraction of that and the functions that run
 * used are already compiled. Node 20 has no built-in compile cache for this
 * (`module.enableCompileCache` came in Node 22), so the script is compiled here with
 * `vm.Script` and its `cachedData`.
 *
 * The cache lives next to the bundle, never in a shared temporary directory: bytecode is code,
 * so it must be as hard to replace as the JavaScript it stands for. It is made at build time
 * (scripts/bundle.mjs); V8 rejects a cache from another Node version or other V8 flags, and
 * then it is written again after the run, when the directory is writable (atomically, so a
 * concurrent start never reads half a file).
 *
 * One file per V8 version-and-flags tag (`v8.cachedDataVersionTag()`): `egress proxy
 * --workers` starts its workers with another young-generation size, and `NODE_OPTIONS` may set
 * V8 flags. With one shared file, each such start would reject the other's cache and write
 * its own, and the next plain `egress run` would compile the bundle from scratch again.
 */
import { isAscii } from 'node:buffer';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

export interface CachedModule<T> {
  exports: T;
  /** What became of the cache: none on disk, used, or rejected by V8. */
  cache: 'none' | 'used' | 'rejected';
  /** Writes the cache when there was none or V8 refused it; never throws. */
  saveCacheIfStale(): void;
}

export function codeCachePath(file: string): string {
  return `${file}.${v8.cachedDataVersionTag().toString(16)}.v8cache`;
}

function readCache(path: string): Buffer | undefined {
  try {
    return existsSync(path) ? readFileSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a CommonJS file the way `require` would, compiled with its code cache when usable. */
export function loadWithCodeCache<T>(file: string): CachedModule<T> {
  const cachePath = codeCachePath(file);
  const cachedData = readCache(cachePath);
  // The build makes the bundle ASCII, and an ASCII file is read 3x faster as Latin-1 (one byte
  // per character, no decoding); anything else is read as UTF-8.
  const bytes = readFileSync(file);
  const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  // The wrapper adds no line, so stack traces keep the bundle's line numbers. A script's own
  // import() has no module loader behind it, so the bundle imports through `__egressImport`,
  // which is ours and resolves from here (src/dataplane/import-module.ts).
  const source = `(function (exports, require, module, __filename, __dirname, __egressImport) {${text}\n})`;
  const script = new vm.Script(source, { filename: file, cachedData });
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: unknown },
    filename: string,
    dirname: string,
    importer: (specifier: string) => Promise<unknown>,
  ) => void;
  const module = { exports: {} as unknown };
  const importer = (specifier: string) => import(specifier) as Promise<unknown>;
  const args = [
    module.exports,
    createRequire(file),
    module,
    file,
    dirname(file),
    importer,
  ] as const;
  wrapper.call(module.exports, ...args);
  const cache =
    cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'used';
  const stale = cache !== 'used';
  return {
    exports: module.exports as T,
    cache,
    saveCacheIfStale() {
      if (!stale) return;
      const temporary = `${cachePath}.${process.pid}.tmp`;
      try {
        writeFileSync(temporary, script.createCachedData());
        renameSync(temporary, cachePath);
      } catch {
        // A read-only installation: start-up is slower, nothing else changes.
        try {
          rmSync(temporary, { force: true });
        } catch {
          // Nothing was written.
        }
      }
    },
  };
}
