/**
 * The JS-module decider: a file exporting `decide(ctx, req)` (named, or as the default export's
 * method, or as the default export itself), sync or async. Each module is imported once per
 * proxy and kept; a module that fails to load or has no `decide` is a decider_error.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importModule } from '../import-module.js';
import { DeciderFailure } from './failure.js';

export type DecideFunction = (ctx: unknown, req: unknown) => unknown;

export class ModuleLoader {
  private readonly loaded = new Map<string, Promise<DecideFunction>>();

  /** `path` is relative to `baseDir` (the policy file's folder) unless absolute. */
  load(path: string, baseDir: string): Promise<DecideFunction> {
    const full = isAbsolute(path) ? path : resolve(baseDir, path);
    let pending = this.loaded.get(full);
    if (!pending) {
      pending = importDecide(full);
      // A failed import is retried next time (the file may be fixed), not cached forever.
      pending.catch(() => this.loaded.delete(full));
      this.loaded.set(full, pending);
    }
    return pending;
  }
}

async function importDecide(full: string): Promise<DecideFunction> {
  let mod: Record<string, unknown>;
  try {
    mod = await importModule<Record<string, unknown>>(pathToFileURL(full).href);
  } catch (err) {
    throw new DeciderFailure(
      'decider_error',
      `the decider module ${full} could not be loaded: ${(err as Error).message}`,
    );
  }
  const fallback = mod.default as Record<string, unknown> | DecideFunction | undefined;
  const decide =
    mod.decide ??
    (typeof fallback === 'function' ? fallback : (fallback as { decide?: unknown })?.decide);
  if (typeof decide !== 'function')
    throw new DeciderFailure(
      'decider_error',
      `the decider module ${full} does not export a decide(ctx, req) function`,
    );
  return decide as DecideFunction;
}
