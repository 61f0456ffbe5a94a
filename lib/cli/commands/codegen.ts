/**
 * `event-router codegen`: writes the payload types, `defineRpc` bound to them (rpc.ts), the typed publisher and the OpenAPI document of the
 * publish API into `generated/`. `--check` writes nothing and fails when a file is stale.
 */
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { generate, staleFiles, writeGenerated } from '../../codegen/index.ts';
import { loadRouterSpecOrReport } from '../args.ts';

export const summary = 'Generate payload types, the typed defineRpc and publisher, and the OpenAPI document';
export const usage = `event-router codegen [--file event-router.yaml] [--out generated] [--check]

  --file <path>  the router file (default: event-router.yaml)
  --out <dir>    output directory (default: generated/ next to the router file)
  --check        write nothing; exit 1 when a generated file is missing or stale (for CI)`;

export async function run(args: string[]): Promise<number> {
  let values: { file?: string; out?: string; check?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { file: { type: 'string', short: 'f' }, out: { type: 'string' }, check: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\nUsage: ${usage}`);
    return 2;
  }
  const spec = loadRouterSpecOrReport(values.file);
  if (!spec) return 1;
  const outDir = values.out ?? join(spec.rootDir, 'generated');
  const shown = relative(process.cwd(), outDir) || '.';
  const files = generate(spec, outDir);
  if (values.check) {
    const stale = staleFiles(files, outDir);
    if (stale.length === 0) {
      console.log(`${shown}: ${files.length} generated files are up to date.`);
      return 0;
    }
    console.error(
      `Stale generated files (they no longer match ${relative(process.cwd(), spec.file)}):\n${stale
        .map((path) => `  ${join(shown, path)}`)
        .join('\n')}\nRun \`npx event-router codegen\` and commit the result.`,
    );
    return 1;
  }
  const changed = writeGenerated(files, outDir);
  console.log(
    changed.length === 0
      ? `${shown}: ${files.length} generated files are up to date.`
      : `Wrote ${changed.map((path) => join(shown, path)).join(', ')}.`,
  );
  return 0;
}
