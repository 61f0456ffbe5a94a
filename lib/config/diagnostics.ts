/**
 * Collecting and printing loader diagnostics.
 */
import { relative } from 'node:path';
import type { Diagnostic, SourceLocation } from './types.ts';

/** Collects the problems found while loading one spec. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  error(location: SourceLocation, code: string, message: string, hint?: string): void {
    this.items.push(withHint({ severity: 'error', location, code, message }, hint));
  }

  warning(location: SourceLocation, code: string, message: string, hint?: string): void {
    this.items.push(withHint({ severity: 'warning', location, code, message }, hint));
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === 'error').length;
  }

  /** Diagnostics in file order (line, then column), errors before warnings at the same place. */
  sorted(): Diagnostic[] {
    return [...this.items].sort(compareDiagnostics);
  }
}

function withHint(diagnostic: Omit<Diagnostic, 'hint'>, hint: string | undefined): Diagnostic {
  return hint ? { ...diagnostic, hint } : diagnostic;
}

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    a.location.file.localeCompare(b.location.file) ||
    a.location.line - b.location.line ||
    a.location.col - b.location.col ||
    (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1)
  );
}

export interface FormatOptions {
  /** Paths are printed relative to this directory. @default process.cwd() */
  readonly cwd?: string;
  /** Wrap severities in ANSI colours. @default false */
  readonly color?: boolean;
  /** Append the "N errors, M warnings" line. @default true */
  readonly summary?: boolean;
}

/**
 * Human-readable diagnostics, one per block:
 *
 * ```
 * event-router.yaml:12:7: error: Unknown key "timout" in RPC NotificationService/NotifyCardholder.
 *   hint: Did you mean "timeout"?
 * ```
 *
 * followed by a summary line `2 errors, 1 warning`.
 */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], opts: FormatOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  const paint = (code: string, text: string) => (opts.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const lines: string[] = [];
  for (const d of diagnostics) {
    const file = displayPath(d.location.file, cwd);
    const severity = d.severity === 'error' ? paint('31', 'error') : paint('33', 'warning');
    lines.push(`${file}:${d.location.line}:${d.location.col}: ${severity}: ${d.message}`);
    if (d.hint) lines.push(`  ${paint('36', 'hint')}: ${d.hint}`);
  }
  if (opts.summary ?? true) lines.push(summarize(diagnostics));
  return lines.join('\n');
}

/** `2 errors, 1 warning`. */
export function summarize(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}
