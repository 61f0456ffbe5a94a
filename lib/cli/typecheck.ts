/**
 * Type checks the functions in the background for `event-router dev --watch`: after a change under
 * functions/, runs the TypeScript compiler (no emit) over functions/ and generated/ in a child process,
 * without holding up the reload, and reports the errors as `file:line:col error TSxxxx: message`. One
 * check runs at a time; changes made meanwhile start one more when it ends.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The `tsc` script of the installed TypeScript, if any. */
function typescriptCompiler(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  } catch {
    return undefined;
  }
}

/** One type error. */
export interface TypeProblem {
  /** Path relative to the working directory. */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly code: string;
  readonly message: string;
}

/** Parses the compiler's `--pretty false` output (`file(line,col): error TS1234: message`, continuation lines indented). */
export function parseTscOutput(output: string, cwd = process.cwd()): TypeProblem[] {
  const errors: TypeProblem[] = [];
  let last: { -readonly [K in keyof TypeProblem]: TypeProblem[K] } | undefined;
  for (const line of output.split(/\r?\n/)) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
    if (m) {
      last = {
        file: relative(cwd, resolve(ROOT, m[1] ?? '')),
        line: Number(m[2]),
        col: Number(m[3]),
        code: m[4] ?? '',
        message: m[5] ?? '',
      };
      errors.push(last);
    } else if (last && /^\s+\S/.test(line)) last.message += `\n${line}`;
  }
  return errors;
}

/** `file:line:col error TSxxxx: message`. */
export function formatTypeProblem(e: TypeProblem): string {
  return `${e.file}:${e.line}:${e.col} error ${e.code}: ${e.message}`;
}

export interface TypecheckOptions {
  /** Directory for the compiler's project file (e.g. inside cdk.out). */
  readonly workDir: string;
  /** The handlers' tree to check. */
  readonly functionsDir: string;
  /** Receives the errors of each finished check (an empty list after errors were fixed). */
  readonly report: (errors: readonly TypeProblem[], ms: number) => void;
}

export class BackgroundTypecheck {
  private running = false;
  private again = false;
  private closed = false;
  private child: ReturnType<typeof spawn> | undefined;
  private readonly project: string;
  private readonly tsc: string;

  constructor(private readonly options: TypecheckOptions) {
    const workDir = resolve(options.workDir);
    mkdirSync(workDir, { recursive: true });
    this.project = join(workDir, 'tsconfig.json');
    // The user's functions and the generated types they use; the rest of the project is not theirs.
    writeFileSync(
      this.project,
      JSON.stringify(
        {
          extends: join(ROOT, 'tsconfig.json'),
          include: [
            options.functionsDir,
            join(ROOT, 'functions'),
            join(ROOT, 'common'),
            join(dirname(options.functionsDir), 'generated'),
          ],
        },
        null,
        2,
      ),
    );
    this.tsc = typescriptCompiler() ?? '';
  }

  /** Whether the TypeScript compiler is installed (a devDependency; without it nothing is checked). */
  get available(): boolean {
    return this.tsc !== '';
  }

  /** Starts a check (or one more after the running one). Never waits for it. */
  schedule(): void {
    if (this.closed || !this.available) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const started = Date.now();
    const output: Buffer[] = [];
    const child = spawn(process.execPath, [this.tsc, '--noEmit', '--pretty', 'false', '-p', this.project], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (c: Buffer) => output.push(c));
    child.stderr?.on('data', (c: Buffer) => output.push(c));
    const done = (code: number | null) => {
      this.running = false;
      this.child = undefined;
      if (this.closed) return;
      const text = Buffer.concat(output).toString('utf8');
      const errors = parseTscOutput(text);
      // A failure without positions (a broken project file, ...) is reported as it came.
      if (errors.length === 0 && code !== 0 && text.trim() !== '')
        errors.push({ file: this.project, line: 1, col: 1, code: 'tsc', message: text.trim() });
      this.options.report(errors, Date.now() - started);
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    };
    child.on('close', done);
    child.on('error', () => {
      // 'close' follows.
    });
  }

  /** Stops a running check. */
  close(): void {
    this.closed = true;
    this.child?.kill();
  }
}
