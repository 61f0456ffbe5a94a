/** `event-router audit`: who did what to the router's failures (redrive, edit, purge, replay), newest first. */
import { parseCommandArgs } from '../args.ts';
import { escapeTerminal } from '../escape-terminal.ts';
import { explainOpsError, openOps } from '../ops-context.ts';

export const summary = 'Who redrove, edited or purged what, and when (the audit trail)';
export const usage = `event-router audit [--limit <n>] [--json] [--endpoint <url>] [--file <path>]

  --limit <n>       the newest n entries (default 50)
  --json            as JSON`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      limit: { type: 'string' },
      json: { type: 'boolean' },
      endpoint: { type: 'string' },
      file: { type: 'string' },
    },
    usage,
  );
  if (!parsed) return 2;
  const { values } = parsed;
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    console.error(`--limit must be a positive whole number, got "${values.limit}".`);
    return 2;
  }
  const context = openOps(values.file, values.endpoint);
  if (!context) return 1;
  try {
    const entries = await context.ops.auditTrail(limit);
    if (values.json) console.log(JSON.stringify(entries, null, 2));
    else if (entries.length === 0) console.log('No operator action recorded yet.');
    else
      for (const e of entries)
        console.log(
          escapeTerminal(
            `${e.at}  ${e.who}  ${e.action.padEnd(11)} ${e.rpc}  ${e.what}: ${e.count} message(s), ${e.outcome}${e.detail ? ` (${e.detail})` : ''}`,
          ),
        );
    return 0;
  } catch (error) {
    console.error(explainOpsError(error, 'audit', values.endpoint));
    return 1;
  } finally {
    context.close();
  }
}
