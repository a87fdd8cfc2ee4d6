// Builds the web console (console/, DESIGN.md 10) with esbuild into dist/console: index.html,
// one JavaScript bundle and one CSS file, their names carrying a content hash. Everything is
// bundled from node_modules at build time; the page fetches nothing but its own files and the
// API. Prints the gzipped size and fails above the budget (issue 12: 500 KB).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const BUDGET_GZIP = 500 * 1024;
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('egress: esbuild is not installed; skipping the web console\n');
  process.exit(0);
}
const outdir = join(root, 'dist', 'console');
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await esbuild.build({
  entryPoints: [join(root, 'console', 'main.tsx')],
  bundle: true,
  outdir,
  entryNames: 'app-[hash]',
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  metafile: true,
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => join(root, p));
const js = outputs.find((p) => p.endsWith('.js'));
const css = outputs.find((p) => p.endsWith('.css'));
if (!js || !css) {
  process.stderr.write('egress: the console build produced no JS or no CSS\n');
  process.exit(1);
}
const html = readFileSync(join(root, 'console', 'index.html'), 'utf8')
  .replace('%CSS%', basename(css))
  .replace('%JS%', basename(js));
writeFileSync(join(outdir, 'index.html'), html);
const gz = (p) => gzipSync(readFileSync(p), { level: 9 }).length;
const size = { js: gz(js), css: gz(css), html: gz(join(outdir, 'index.html')) };
const total = size.js + size.css + size.html;
writeFileSync(join(outdir, 'size.json'), JSON.stringify({ ...size, total }, null, 2) + '\n');
process.stdout.write(
  `egress: console built: ${basename(js)} ${(size.js / 1024).toFixed(1)} KB gzipped, ${basename(css)} ${(size.css / 1024).toFixed(1)} KB, total ${(total / 1024).toFixed(1)} KB of ${BUDGET_GZIP / 1024} KB\n`,
);
if (total > BUDGET_GZIP) {
  process.stderr.write('egress: the console bundle is over its 500 KB gzipped budget\n');
  process.exit(1);
}
