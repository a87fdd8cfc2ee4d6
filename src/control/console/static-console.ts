/**
 * The web console (DESIGN.md 10) served by `egress serve` at `/`: the files esbuild wrote into
 * dist/console (scripts/build-console.mjs), with their content types, and index.html for any
 * other path that is not the API, so the single-page app's own addresses (/audit, /scopes/…)
 * survive a reload. /api, /v1/apps and /healthz never reach this handler.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Paths the console must never answer: the API keeps its own 404 problem documents. */
const NOT_CONSOLE = [/^\/api(\/|$)/, /^\/v1\/apps(\/|$)/, /^\/healthz$/];

/**
 * Nothing but same-origin code runs; CodeMirror adds <style> elements, hence 'unsafe-inline'
 * for styles only.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** dist/console next to the running code: from dist/src/control/console or from dist/bundle. */
export function findConsoleDir(from: string = fileURLToPath(import.meta.url)): string | undefined {
  let dir = dirname(from);
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, 'console'), join(dir, 'dist', 'console')])
      // size.json is written by scripts/build-console.mjs: the repository's console/ sources
      // (an index.html template) are not a build and must not be served.
      if (existsSync(join(candidate, 'index.html')) && existsSync(join(candidate, 'size.json')))
        return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

interface StaticFile {
  body: Uint8Array;
  type: string;
}

/**
 * Reads each file once; the build's names carry a content hash (app-XXXX.js) so they may be
 * cached for a year, while index.html is always revalidated.
 */
export class ConsoleFiles {
  private readonly cache = new Map<string, StaticFile | null>();

  constructor(private readonly root: string) {}

  private read(rel: string): StaticFile | null {
    if (this.cache.has(rel)) return this.cache.get(rel)!;
    const full = normalize(join(this.root, rel));
    let file: StaticFile | null = null;
    if (full.startsWith(this.root + sep) && existsSync(full) && statSync(full).isFile())
      file = {
        body: readFileSync(full),
        type: CONTENT_TYPES[extname(full)] ?? 'application/octet-stream',
      };
    this.cache.set(rel, file);
    return file;
  }

  /** The response for a GET/HEAD of `path`, or undefined when the path is not the console's. */
  respond(c: Context): Response | undefined {
    const path = c.req.path;
    if (NOT_CONSOLE.some((re) => re.test(path))) return undefined;
    let rel = decodeURIComponent(path).replace(/^\/+/, '');
    let file = rel && !rel.endsWith('/') ? this.read(rel) : null;
    const isAsset = file !== null && rel !== 'index.html';
    if (!file) {
      // An unknown file with an extension (a stale /app-OLD.js) is a real 404, not the app.
      if (extname(rel) && !rel.endsWith('.html')) return undefined;
      rel = 'index.html';
      file = this.read(rel);
      if (!file) return undefined;
    }
    const headers = new Headers({
      'content-type': file.type,
      'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
      'content-security-policy': CSP,
      'referrer-policy': 'no-referrer',
    });
    return new Response(c.req.method === 'HEAD' ? null : file.body, { status: 200, headers });
  }
}

/** Registers the console on `app` after every API route: `GET *` for what is left. */
export function registerConsole(
  app: { get(path: string, handler: (c: Context) => Response | Promise<Response>): unknown },
  dir: string,
): void {
  const files = new ConsoleFiles(dir);
  app.get('*', (c) => files.respond(c) ?? c.notFound());
}
