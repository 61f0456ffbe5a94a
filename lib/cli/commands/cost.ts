/**
 * `event-router cost [path] [--rate n] [--event name]... [--prices file] [--duration-ms n]
 * [--publish api|direct] [--format text|json]`: what the router costs on AWS, per event, per RPC and
 * per month at a rate. The model is lib/cost; this only reads the options and prints.
 */
import { costOf, readOverrides, renderCostJson, renderCostText, withOverrides } from '../../cost/index.ts';
import { planRouter } from '../../plan/index.ts';
import { loadRouterSpecOrReport, parseCommandArgs, routerFileArgument } from '../args.ts';

export const summary = 'Estimate the AWS requests and cost per event, per RPC and per month';
export const usage = `event-router cost [path] [--rate <events/s>] [--event <name>]... [--prices <file>]
                  [--duration-ms <ms>] [--publish api|direct] [--format text|json]

  path           the router file (default: ./event-router.yaml)
  --rate         events per second, split evenly over the events (default: 10)
  --event        an event the load is made of; repeat for several
                 (default: every event published from outside, i.e. no RPC publishes it)
  --prices       a JSON file overriding prices and assumptions:
                 { "prices": { "sqsRequestsPerMillion": 0.4 },
                   "assumptions": { "filterMatch": { "<event> -> <rpc>": 0.3 } } }
  --duration-ms  billed ms of one worker invocation (default: 40)
  --publish      api: external events come through the publish API (default); direct: PutEvents
  --format       text (default) or json

Prices are us-east-1 list prices (the date is printed); no free tier is deducted.`;

function positiveNumber(name: string, text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0)
    return `--${name} is "${text}"; give a number of 0 or more, e.g. --${name} 25`;
  return value;
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      rate: { type: 'string' },
      event: { type: 'string', multiple: true },
      prices: { type: 'string' },
      'duration-ms': { type: 'string' },
      publish: { type: 'string' },
      format: { type: 'string' },
    },
    usage,
  );
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const problems: string[] = [];
  const rate = positiveNumber('rate', values.rate);
  const duration = positiveNumber('duration-ms', values['duration-ms']);
  for (const value of [rate, duration]) if (typeof value === 'string') problems.push(value);
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') problems.push(`--format is "${format}"; use text or json`);
  const publish = values.publish;
  if (publish !== undefined && publish !== 'api' && publish !== 'direct')
    problems.push(`--publish is "${publish}"; use api or direct`);
  if (problems.length > 0) {
    console.error(`${problems.join('\n')}\n\nUsage: ${usage}`);
    return 2;
  }

  const file = routerFileArgument('cost', positionals, usage);
  if (typeof file === 'number') return file;
  let overrides: ReturnType<typeof readOverrides> = {};
  if (values.prices !== undefined) {
    try {
      overrides = readOverrides(values.prices);
    } catch (error) {
      console.error((error as Error).message);
      return 1;
    }
  }
  const spec = loadRouterSpecOrReport(file);
  if (!spec) return 1;
  const { prices, assumptions } = withOverrides(overrides);
  try {
    const report = costOf(planRouter(spec), {
      rate: typeof rate === 'number' ? rate : 10,
      events: values.event,
      prices,
      assumptions: {
        ...assumptions,
        ...(typeof duration === 'number' ? { invocationMs: duration } : {}),
        ...(publish === 'api' || publish === 'direct' ? { publishVia: publish } : {}),
      },
    });
    console.log(
      format === 'json'
        ? renderCostJson(report)
        : renderCostText(report, `${spec.app.name}-${spec.app.stage}`),
    );
    return 0;
  } catch (error) {
    console.error(`event-router cost: ${(error as Error).message}`);
    return 1;
  }
}
