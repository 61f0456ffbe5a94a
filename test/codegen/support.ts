/** Helpers for codegen tests: specs built in code, temp directories, tsc and biome runs. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventSpec, PublishApiAuth, RouterSpec } from '../../lib/config/types.ts';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const at = { file: join(PROJECT_ROOT, 'event-router.yaml'), line: 1, col: 1 };

/** An event spec with defaults for the fields a test does not care about. */
export function event(
  name: string,
  schema: Record<string, unknown>,
  extra: Partial<EventSpec> = {},
): EventSpec {
  return {
    name,
    publisher: 'TestService',
    publishers: ['TestService'],
    schema,
    schemaVersion: 1,
    location: at,
    ...extra,
  };
}

/** A router spec holding `events` (no services needed for codegen). */
export function specOf(events: readonly EventSpec[], auth: PublishApiAuth = { type: 'iam' }): RouterSpec {
  return {
    file: at.file,
    rootDir: PROJECT_ROOT,
    app: {
      name: 'demo',
      stage: 'dev',
      archiveRetentionDays: 30,
      dedupRetentionSeconds: 86400,
      publishApi: { auth, rateLimit: 100, burstLimit: 200 },
    },
    events,
    services: [],
    subscriptions: [],
    publishers: [
      {
        name: 'TestService',
        identity: { kind: 'iam', principal: 'arn:aws:iam::*:role/test-service' },
        putsOnBus: false,
        events: events.map((e) => e.name),
        location: at,
      },
    ],
  };
}

/** A fresh temp directory, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `er-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the project's tsc on `files` with the project's strictness; returns exit code and output. */
export function typecheck(dir: string, files: readonly string[]): { code: number; output: string } {
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        allowImportingTsExtensions: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(PROJECT_ROOT, 'node_modules', '@types')],
      },
      files,
    }),
  );
  const result = spawnSync(
    join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc'),
    ['-p', join(dir, 'tsconfig.json')],
    {
      encoding: 'utf8',
    },
  );
  return { code: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
}

/** What biome's formatter makes of `text` as a TypeScript file in generated/. */
export function biomeFormat(text: string): string {
  const result = spawnSync(
    join(PROJECT_ROOT, 'node_modules', '.bin', 'biome'),
    ['format', '--stdin-file-path=generated/check.ts'],
    { cwd: PROJECT_ROOT, input: text, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`biome format failed: ${result.stderr}`);
  return result.stdout;
}
