#!/usr/bin/env node
// Entry of the `event-router` command: loads TypeScript through tsx, then runs the CLI.
import { register } from 'tsx/esm/api';

// The CLI runs on the local Node.js (20 or later); the AWS SDK's notice about its future minimum
// version is not actionable for someone running a command, so it stays quiet unless asked for.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// A reader that stops early (`event-router dlq list | head -2`) closes the pipe: stop quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
