/**
 * `event-router validate [path]`: loads the router file, prints every problem with its position and
 * the fix, and exits 1 when any of them is an error (warnings alone exit 0).
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDiagnostics, loadSpec } from '../../config/load.ts';

export const summary = 'Check event-router.yaml and print every problem with file:line:col and its fix';
export const usage = `event-router validate [path] [--no-color]

  path        the router file (default: ./event-router.yaml)
  --no-color  plain output even on a terminal`;

export async function run(args: string[]): Promise<number> {
  let positionals: string[];
  let values: { 'no-color'?: boolean };
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { 'no-color': { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\nUsage: ${usage}`);
    return 2;
  }
  if (positionals.length > 1) {
    console.error(`validate takes one file, got ${positionals.length}.\n\nUsage: ${usage}`);
    return 2;
  }
  const file = positionals[0] ?? 'event-router.yaml';
  if (!existsSync(file)) {
    console.error(
      `event-router validate: ${file} not found. Pass the path of your router file: event-router validate path/to/event-router.yaml`,
    );
    return 1;
  }
  const result = loadSpec(file);
  const color = !values['no-color'] && process.stdout.isTTY === true && !process.env.NO_COLOR;
  const absolute = result.spec?.file ?? file;
  const rel = relative(process.cwd(), absolute);
  const shown = rel && !rel.startsWith('..') ? rel : absolute;
  if (result.diagnostics.length > 0) {
    const text = formatDiagnostics(result.diagnostics, { color });
    if (result.spec) console.log(text);
    else console.error(text);
  }
  if (!result.spec) return 1;
  const { events, services, subscriptions } = result.spec;
  const rpcCount = services.reduce((n, s) => n + s.rpcs.length, 0);
  console.log(
    `✓ ${shown}: ${plural(events.length, 'event')}, ${plural(rpcCount, 'RPC')}, ${plural(subscriptions.length, 'subscription')}`,
  );
  return 0;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
