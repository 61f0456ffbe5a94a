/**
 * Code generation from the router spec: what `event-router codegen` writes into `generated/`.
 * Output depends only on the spec (no dates, no absolute paths), so it is byte-for-byte reproducible
 * and `--check` can compare it with what is on disk.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publisherSource } from '../../common/naming.ts';
import type { RouterSpec } from '../config/types.ts';
import { buildOpenApi } from '../openapi/index.ts';
import { renderEventsFile } from './events-file.ts';
import { renderPublisherFile } from './publisher-file.ts';
import { renderRpcFile } from './rpc-file.ts';

/** The project's root, where the framework modules the generated files import live. */
const FRAMEWORK_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** common/publisher.ts, which the generated publisher builds on. */
const PUBLISHER_MODULE = join(FRAMEWORK_ROOT, 'common', 'publisher.ts');
/** functions/commons/rpc.ts, whose `bindRpc` the generated `defineRpc` is made with. */
const RPC_MODULE = join(FRAMEWORK_ROOT, 'functions', 'commons', 'rpc.ts');

/** Import specifier of `target` from a file in `fromDir` (always relative, `/`-separated). */
function importPath(fromDir: string, target: string): string {
  const path = relative(fromDir, target).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/** One file codegen writes; `path` is relative to the output directory. */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}

/** Every generated file for `spec`, written into `outDir`, in a stable order. */
export function generate(spec: RouterSpec, outDir: string): GeneratedFile[] {
  return [
    { path: 'events.ts', content: renderEventsFile(spec.events) },
    {
      path: 'publisher.ts',
      content: renderPublisherFile(
        importPath(resolve(outDir), PUBLISHER_MODULE),
        spec.publishers.map((p) => ({ name: p.name, source: publisherSource(spec.app.name, p.name) })),
      ),
    },
    { path: 'rpc.ts', content: renderRpcFile(importPath(resolve(outDir), RPC_MODULE)) },
    { path: 'openapi.json', content: `${JSON.stringify(buildOpenApi(spec), null, 2)}\n` },
  ];
}

/** Paths (relative to `outDir`) whose content on disk differs from `files` or that are missing. */
export function staleFiles(files: readonly GeneratedFile[], outDir: string): string[] {
  return files
    .filter((file) => {
      const target = join(outDir, file.path);
      return !existsSync(target) || readFileSync(target, 'utf8') !== file.content;
    })
    .map((file) => file.path);
}

/** Writes the files that changed; returns their paths (relative to `outDir`). */
export function writeGenerated(files: readonly GeneratedFile[], outDir: string): string[] {
  const changed = staleFiles(files, outDir);
  for (const file of files) {
    if (!changed.includes(file.path)) continue;
    const target = join(outDir, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
  return changed;
}
