/**
 * `event-router validate [path]`: loads the router file, prints every problem with its position and
 * the fix, and exits 1 when any of them is an error (warnings alone exit 0).
 */
import { relative } from 'node:path';
import { formatDiagnostics, loadSpec } from '../../config/load.ts';
import { parseCommandArgs, routerFileArgument } from '../args.ts';

export const summary = 'Check event-router.yaml and print every problem with file:line:col and its fix';
export const usage = `event-router validate [path] [--no-color]

  path        the router file (default: ./event-router.yaml)
  --no-color  plain output even on a terminal`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { 'no-color': { type: 'boolean' } }, usage);
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const file = routerFileArgument('validate', positionals, usage);
  if (typeof file === 'number') return file;
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
