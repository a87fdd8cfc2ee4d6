// Bundles the compiled CLI (dist/src) into dist/bundle with esbuild, when esbuild is installed:
// one file per command (split on the CLI's dynamic imports) loads faster than hundreds of
// modules (egress run starts about 30% sooner). bin/egress uses the bundle only when it is
// newer than dist/src/cli/main.js, so a plain `tsc` after it is never shadowed by stale code.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
const entries = ['dist/src/cli/main.js', 'dist/src/dataplane/sandbox/bridge.js'].map((p) =>
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

await esbuild.build({
  plugins: [englishOnlyZod],
  entryPoints: entries,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  entryNames: '[name]',
  // Loaded lazily by inspect mode only, and their CommonJS interop differs when bundled.
  external: ['@peculiar/x509', 'reflect-metadata'],
  logLevel: 'warning',
  // CommonJS dependencies (pino, dns-packet) call require().
  banner: {
    js: "import { createRequire as __egressRequire } from 'node:module'; const require = __egressRequire(import.meta.url);",
  },
});
