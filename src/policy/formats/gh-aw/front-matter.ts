/**
 * A gh-aw workflow is Markdown with YAML front matter between two `---` lines. The YAML is
 * parsed on its own, with a line offset so that every diagnostic names the line of the real
 * file. A file that does not start with `---` is read as a plain YAML document.
 */
import { PolicyError } from '../../source/diagnostics.js';
import type { SourceText } from '../types.js';

export interface FrontMatter {
  /** The YAML text alone. */
  yaml: string;
  /** Lines of the file before the YAML (the opening `---`). */
  lineOffset: number;
  /** True when the file had `---` front matter (a Markdown workflow). */
  markdown: boolean;
}

const FENCE = /^---\s*$/;

export function extractFrontMatter(source: SourceText): FrontMatter {
  const text = source.text.replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/);
  if (!FENCE.test(lines[0] ?? '')) return { yaml: text, lineOffset: 0, markdown: false };
  const close = lines.findIndex((line, i) => i > 0 && FENCE.test(line));
  if (close === -1) {
    throw new PolicyError([
      {
        severity: 'error',
        file: source.file,
        line: 1,
        col: 1,
        message: 'the front matter that starts here never ends',
        hint: 'close the YAML front matter with a line holding only "---"',
      },
    ]);
  }
  return { yaml: lines.slice(1, close).join('\n'), lineOffset: 1, markdown: true };
}
