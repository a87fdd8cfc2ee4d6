/** Collects the diagnostics of one document, each placed by its path in the document. */
import { PolicyError, type Diagnostic, type Path, type SourceLocation } from './diagnostics.js';
import type { SourceDocument } from './document.js';

export class Reporter {
  readonly diagnostics: Diagnostic[] = [];

  constructor(readonly doc: SourceDocument) {}

  location(path: Path, options: { key?: boolean } = {}): SourceLocation {
    return this.doc.locate(path, options);
  }

  error(path: Path, message: string, hint?: string, options: { key?: boolean } = {}): void {
    this.add('error', path, message, hint, options);
  }

  warn(path: Path, message: string, hint?: string, options: { key?: boolean } = {}): void {
    this.add('warning', path, message, hint, options);
  }

  get hasErrors(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error');
  }

  /** Throws a PolicyError carrying every diagnostic (warnings included) if any is an error. */
  throwIfErrors(): void {
    if (this.hasErrors) throw new PolicyError(sortDiagnostics(this.diagnostics));
  }

  private add(
    severity: Diagnostic['severity'],
    path: Path,
    message: string,
    hint: string | undefined,
    options: { key?: boolean },
  ): void {
    const loc = this.doc.locate(path, options);
    const duplicate = this.diagnostics.some(
      (d) => d.line === loc.line && d.col === loc.col && d.message === message,
    );
    if (duplicate) return;
    this.diagnostics.push({ severity, ...loc, message, ...(hint ? { hint } : {}) });
  }
}

export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.line - b.line || a.col - b.col);
}
