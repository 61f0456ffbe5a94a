/**
 * `npm run bench`: runs every benchmark in turn and prints its figures.
 * Each benchmark module exports `run(): Promise<void>` and can also be run alone
 * (`node --import tsx bench/<name>.ts`). Pass names to run a subset: `npm run bench -- worker e2e`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Benchmarks run on the local Node.js; the AWS SDK's notice about its future minimum version is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const BENCHES = ['worker', 'e2e', 'synth'] as const;

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const selected = wanted.length > 0 ? BENCHES.filter((name) => wanted.includes(name)) : BENCHES;

for (const name of selected) {
  const file = join(here, `${name}.ts`);
  if (!existsSync(file)) {
    console.log(`\n== ${name}: not present, skipped`);
    continue;
  }
  console.log(`\n== ${name}`);
  const bench = (await import(file)) as { run(): Promise<void> };
  await bench.run();
}
