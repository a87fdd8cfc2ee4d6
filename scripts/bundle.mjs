// Bundles the compiled CLI (dist/src) into dist/bundle with esbuild, when esbuild is installed:
// one file loads faster than hundreds of modules, and with its V8 code cache faster still
// (egress run starts about 40% sooner than from dist/src). bin/egress uses the bundle only when
// it is newer than dist/.tsbuildinfo, so a plain `tsc` after it is never shadowed by stale code.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write(
    'egress: esbuild is not installed; skipping the bundle (bin/egress uses dist/src)\n',
  );
  process.exit(0);
}
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
const entries = ['dist/src/cli/main.js', 'dist/src/dataplane/sandbox/inside/bridge.js'].map((p) =>
  join(root, p),
);
if (!entries.every(existsSync)) {
  process.stderr.write('egress: dist/src is missing; run tsc first\n');
  process.exit(1);
}
/**
 * zod's `z` namespace re-exports every message locale (60+ languages, two thirds of the zod
 * code in the bundle); egress reports in English only, so the bundle keeps `en` and parses
 * 500 KB less at every start. (dist/src, used without the bundle, keeps zod as published.)
 */
const englishOnlyZod = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";\n',
      loader: 'js',
      resolveDir: join(root, 'node_modules', 'zod', 'v4', 'locales'),
    }));
  },
};

// The CLI: one CommonJS file, so that bin/egress can compile it with a V8 code cache
// (src/cli/code-cache.ts; Node 20 caches no ES module). import.meta.url, used to find the
// bridge beside it, becomes the file's own URL.
/**
 * In the CLI bundle, `import()` of a module chosen at run time goes through the importer that
 * the code-cache loader passes in (src/dataplane/import-module.ts says why).
 */
const importThroughLoader = {
  name: 'import-through-loader',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]src[\\/]dataplane[\\/]import-module\.js$/ }, () => ({
      contents: 'export function importModule(specifier) { return __egressImport(specifier); }\n',
      loader: 'js',
    }));
  },
};

await esbuild.build({
  plugins: [englishOnlyZod, importThroughLoader],
  entryPoints: [join(root, 'dist/src/cli/main.js')],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outfile: join(outdir, 'egress.cjs'),
  charset: 'ascii',
  // Loaded lazily by inspect mode only, and their CommonJS interop differs when bundled.
  external: ['@peculiar/x509', 'reflect-metadata'],
  logLevel: 'warning',
  define: { 'import.meta.url': '__egressModuleUrl' },
  banner: {
    js: "const __egressModuleUrl = require('node:url').pathToFileURL(__filename).href;",
  },
});

// esbuild escapes every non-ASCII character in code; what is left is in comments. Escaping those
// too makes the file ASCII, which the loader reads as a one-byte string (3x faster than UTF-8).
const cliBundle = join(outdir, 'egress.cjs');
writeFileSync(
  cliBundle,
  readFileSync(cliBundle, 'utf8').replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  ),
);

// The sandbox's bridge runs in its own process: a small ES module of its own.
await esbuild.build({
  entryPoints: [join(root, 'dist/src/dataplane/sandbox/inside/bridge.js')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outfile: join(outdir, 'bridge.js'),
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __egressRequire } from 'node:module'; const require = __egressRequire(import.meta.url);",
  },
});

/**
 * Writes the code cache by running the CLI once: bin/egress saves it after a run that had
 * none, with the functions that run used already compiled. `egress run` is the command whose
 * start-up counts; where namespaces are not available it fails, and the cache then holds what
 * that attempt compiled (still most of the load time).
 */
const warm = spawnSync(
  process.execPath,
  [
    join(root, 'bin', 'egress'),
    'run',
    '--policy',
    join(root, 'examples', 'native-ci.yaml'),
    '--',
    'true',
  ],
  { stdio: 'ignore', timeout: 30_000 },
);
// The same tag as bin/egress's (same node, no V8 flags): see src/cli/code-cache.ts.
const { codeCachePath } = await import(
  pathToFileURL(join(root, 'dist', 'src', 'cli', 'code-cache.js')).href
);
if (!existsSync(codeCachePath(join(outdir, 'egress.cjs'))))
  process.stderr.write(
    `egress: no code cache was written (warm-up ${warm.error?.message ?? `exit ${warm.status}`}); the CLI starts without one\n`,
  );
