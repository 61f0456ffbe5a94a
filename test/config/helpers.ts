/**
 * Helpers for loader tests: throwaway project directories and positions of text in a YAML source.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadSpec } from '../../lib/config/load.ts';
import type { Diagnostic, LoadResult } from '../../lib/config/types.ts';

/** A handler module as the loader accepts it: made by defineRpc (its events are not literals, so not compared). */
export const HANDLER =
  "import { defineRpc } from '#commons/rpc.ts';\nconst routes = {};\nexport const handler = defineRpc(routes);\n";

/** A minimal valid router; tests change one thing in it. */
export const BASE = `app:
  name: shop
services:
  OrderService:
    rpcs:
      ShipOrder:
        description: Ships a placed order.
publishers:
  Checkout:
    iam: arn:aws:iam::*:role/checkout
events:
  - name: order.placed
    publisher: Checkout
    schema:
      type: object
      properties:
        total: { type: integer }
        country: { type: string }
    subscribers:
      - id: OrderService/ShipOrder
`;

const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (path -> content) into a new temporary directory (removed when the tests end) and returns it. */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'event-router-config-'));
  created.push(dir);
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

/** Loads `yaml` as event-router.yaml of a project that has a handler for OrderService/ShipOrder plus `files`. */
export function load(yaml: string, files: Record<string, string> = {}): LoadResult & { file: string } {
  const dir = project({
    'event-router.yaml': yaml,
    'functions/rpcs/order-service/ship-order.ts': HANDLER,
    ...files,
  });
  const file = join(dir, 'event-router.yaml');
  return { ...loadSpec(file), file };
}

/** 1-based line and column of the `nth` occurrence of `needle` in `text`. */
export function where(text: string, needle: string, nth = 0): { line: number; col: number } {
  let index = -1;
  for (let i = 0; i <= nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index === -1) throw new Error(`"${needle}" occurs fewer than ${nth + 1} times`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, col: (before[before.length - 1] ?? '').length + 1 };
}

/** The diagnostics with a code, as `{ line, col }` plus the diagnostic. */
export function withCode(result: LoadResult, code: string): Diagnostic[] {
  return result.diagnostics.filter((d) => d.code === code);
}

/** Position and code of each diagnostic, for compact assertions. */
export function summary(result: LoadResult): { code: string; line: number; col: number; severity: string }[] {
  return result.diagnostics.map((d) => ({
    code: d.code,
    line: d.location.line,
    col: d.location.col,
    severity: d.severity,
  }));
}

/** Replaces the first occurrence of `from` in BASE. */
export function edit(from: string, to: string, source = BASE): string {
  if (!source.includes(from)) throw new Error(`"${from}" is not in the source`);
  return source.replace(from, to);
}
