/**
 * `npm run bench`: runs every benchmark in turn and prints its figures.
 * Each benchmark module exports `run(): Promise<void>` and can also be run alone
 * (`node --import tsx bench/<name>.ts`). Pass names to run a subset: `npm run bench -- worker e2e`.
 */
// Benchmarks run on the local Node.js; the AWS SDK's notice about its future minimum version is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const BENCHES = ['worker', 'e2e', 'cost', 'synth', 'reload', 'ops'] as const;

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(BENCHES as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`No benchmark named ${unknown.join(', ')}. Known: ${BENCHES.join(', ')}.`);
  process.exit(2);
}
const selected = wanted.length > 0 ? BENCHES.filter((name) => wanted.includes(name)) : BENCHES;

for (const name of selected) {
  console.log(`\n== ${name}`);
  const bench = (await import(`./${name}.ts`)) as { run(): Promise<void> };
  await bench.run();
}
