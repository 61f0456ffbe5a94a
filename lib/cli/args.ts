/**
 * What every subcommand does with its arguments before its own work: strict option parsing that
 * answers a typo with the usage, the router file given as a path argument, and the router spec
 * loaded with its problems printed.
 */
import { existsSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { loadRouterSpec } from '../codegen/spec.ts';
import type { RouterSpec } from '../config/types.ts';

/**
 * Parses `args` strictly against `options` (positionals allowed). On an unknown or malformed option it
 * prints the problem and the usage and returns undefined: the command then exits 2.
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  usage: string,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n\nUsage: ${usage}`);
    return undefined;
  }
}

/**
 * The router file a command given `[path]` works on (default ./event-router.yaml), or the exit code
 * after saying what is wrong: 2 for more than one path, 1 for a file that does not exist.
 */
export function routerFileArgument(command: string, positionals: string[], usage: string): string | number {
  if (positionals.length > 1) {
    console.error(`${command} takes one file, got ${positionals.length}.\n\nUsage: ${usage}`);
    return 2;
  }
  const file = positionals[0] ?? 'event-router.yaml';
  if (!existsSync(file)) {
    console.error(
      `event-router ${command}: ${file} not found. Pass the path of your router file: event-router ${command} path/to/event-router.yaml`,
    );
    return 1;
  }
  return file;
}

/** The router spec of `file` (default event-router.yaml), or undefined after printing its problems. */
export function loadRouterSpecOrReport(file: string | undefined): RouterSpec | undefined {
  const loaded = loadRouterSpec(file);
  if (loaded.spec) return loaded.spec;
  console.error(loaded.errors);
  return undefined;
}
