/**
 * The `event-router` command line. Each subcommand lives in `lib/cli/commands/<name>.ts` and exports
 * `run(args: string[]): Promise<number>` (the exit code) and a one-line `summary`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[]): Promise<number>;
}

/** Subcommands in the order `help` lists them. */
const COMMANDS = [
  'validate',
  'synth',
  'graph',
  'dev',
  'invoke',
  'publish',
  'status',
  'dlq',
  'failures',
  'replay',
  'audit',
  'codegen',
  'cost',
] as const;

const here = dirname(fileURLToPath(import.meta.url));

async function load(name: string): Promise<Command | undefined> {
  const file = join(here, 'commands', `${name}.ts`);
  if (!existsSync(file)) return undefined;
  return (await import(file)) as Command;
}

async function help(): Promise<string> {
  const lines = ['Usage: event-router <command> [options]', '', 'Commands:'];
  for (const name of COMMANDS) {
    const command = await load(name);
    if (command) lines.push(`  ${name.padEnd(10)} ${command.summary}`);
  }
  lines.push('', 'Run `event-router <command> --help` for the options of one command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(await help());
    return name ? 0 : 1;
  }
  const command = (COMMANDS as readonly string[]).includes(name) ? await load(name) : undefined;
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${await help()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  return command.run(args);
}
