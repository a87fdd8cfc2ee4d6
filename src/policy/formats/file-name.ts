/** Policy names derived from file names, for formats whose files carry no name of their own. */

/** `path/to/ci.lock.yml` → `ci.lock`; `examples/gh-aw-workflow.md` → `gh-aw-workflow`. */
export function fileStem(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  const stem = base.replace(/\.(md|markdown|ya?ml|json)$/i, '');
  return stem || base || 'policy';
}

/** `path/to/ci.yml` → `ci.yml`: a file named without the folder it happens to sit in here. */
export function baseName(file: string): string {
  return file.split(/[\\/]/).pop() || file;
}
