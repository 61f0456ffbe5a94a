/**
 * Reload benchmark of `event-router dev --watch`, on a small project (test/support/dev-session.ts):
 * from saving a handler to the next delivery running the new code (goal: p50 <= 1 s on a 2-core
 * machine), split into save -> "Reloaded" line and the delivery after it; and one router file change
 * (a full synthesis) for comparison. The background type check is off, as it would only compete for
 * the two cores with what is measured.
 *
 * Run alone: `node --import tsx bench/reload.ts`; or with the others: `npm run bench`.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { echoHandler, routerYaml, startDevSession } from '../test/support/dev-session.ts';

const EDITS = 15;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `${name.padEnd(34)} p50 ${String(Math.round(percentile(sorted, 50))).padStart(5)} ms   p90 ${String(Math.round(percentile(sorted, 90))).padStart(5)} ms   max ${String(Math.round(sorted.at(-1) ?? Number.NaN)).padStart(5)} ms`;
}

export async function run(): Promise<void> {
  const started = Date.now();
  const s = await startDevSession(['--no-typecheck']);
  console.log(
    `dev --watch started (with its first synthesis) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  try {
    // Warm: the first delivery starts the function's process.
    let from = s.lines.length;
    await s.publish('warm-up');
    await s.waitFor((l) => l.includes('"marker":"v1"'), from);

    const toReloaded: number[] = [];
    const toDelivery: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      const marker = `edit-${i}`;
      // A pause between saves, as between a developer's edits (and so the watcher's debounce resets).
      await new Promise((resolve) => setTimeout(resolve, 400));
      from = s.lines.length;
      const saved = performance.now();
      writeFileSync(s.handlerFile, echoHandler(marker));
      await s.waitFor((l) => l.startsWith('Reloaded'), from);
      toReloaded.push(performance.now() - saved);
      await s.publish(`r-${i}`);
      await s.waitFor((l) => l.includes(`"marker":"${marker}"`), from);
      toDelivery.push(performance.now() - saved);
    }
    console.log(`${EDITS} handler edits (publish right after the reload):`);
    console.log(`  ${summary('save -> reloaded', toReloaded)}`);
    console.log(`  ${summary('save -> delivery runs new code', toDelivery)}   (goal p50 <= 1000 ms)`);

    from = s.lines.length;
    const saved = performance.now();
    writeFileSync(s.routerFile, routerYaml(true));
    await s.waitFor((l) => l.startsWith('Reloaded:'), from, 600_000);
    console.log(
      `  router file change -> reloaded (full synthesis): ${Math.round(performance.now() - saved)} ms`,
    );
  } finally {
    await s.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
