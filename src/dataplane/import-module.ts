/**
 * `import()` of a module chosen at run time: inspect mode's X.509 library (loaded only when
 * needed, it is slow to load) and JavaScript decider modules.
 *
 * The bundled CLI runs as a script compiled by cli/code-cache.ts, where a plain `import()` has no
 * module loader behind it. The bundle build (scripts/bundle.mjs) replaces this file with one
 * that calls the importer that loader passes in, which resolves from dist/src like this file.
 */
export function importModule<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}
