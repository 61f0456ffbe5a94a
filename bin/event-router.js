#!/usr/bin/env node
// Entry of the `event-router` command: loads TypeScript through tsx, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
