// Runs inside the child process of one local function: loads the bundled handler once (warm module
// state, as in a Lambda execution environment) and answers invocations sent over IPC.
// Plain JavaScript so the child starts without a TypeScript loader, like the deployed bundle.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Stacks name the handler's TypeScript (the bundles carry source maps), as on Lambda, where the
// function sets NODE_OPTIONS=--enable-source-maps (lib/constructs/router-function.ts).
process.setSourceMapsEnabled(true);

// The SDK v3 is provided by the runtime, as in Lambda (see sdk-loader.mjs).
register('./sdk-loader.mjs', import.meta.url, {
  data: { parent: new URL('../../../package.json', import.meta.url).href },
});

let codeDir = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
// Code loaded in this process so far (see the 'load' message below).
let codeVersion = 0;
const handlerSpec = process.env._HANDLER ?? 'index.handler';
const dot = handlerSpec.lastIndexOf('.');
const moduleName = handlerSpec.slice(0, dot);
const exportName = handlerSpec.slice(dot + 1);

let handlerPromise;
let handlerReady = false;

// How the event-router worker says each SQS record ended: its one log line per record carries
// `outcome` and `messageId`. Such lines are noted here, in the process that writes them, so they
// travel with the invocation's result (a line read from the pipe could arrive after the result).
// They are passed on as written: the runtime reads them with `readOutcomeLine` of
// common/outcome.ts, the one place that knows the outcomes.
const MAX_NOTED = 10_000;
const noted = new Map();

function noteOutcome(chunk) {
  if (typeof chunk !== 'string' || !chunk.includes('"outcome"') || !chunk.includes('"messageId"')) return;
  let line;
  try {
    line = JSON.parse(chunk);
  } catch {
    return;
  }
  if (typeof line !== 'object' || line === null || typeof line.messageId !== 'string') return;
  if (typeof line.outcome !== 'string') return;
  if (noted.size >= MAX_NOTED) noted.delete(noted.keys().next().value);
  noted.set(line.messageId, line);
}

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    noteOutcome(chunk);
    return write(chunk, ...rest);
  };
}

/** The outcomes the worker logged for the records of `event` (undefined when none). */
function takeOutcomes(event) {
  const records = Array.isArray(event?.Records) ? event.Records : [];
  let out;
  for (const record of records) {
    const id = record?.messageId;
    const report = typeof id === 'string' ? noted.get(id) : undefined;
    if (!report) continue;
    noted.delete(id);
    out ??= {};
    out[id] = report;
  }
  return out;
}

// Lambda runs Node 22; the SDK's notice about older Node versions only concerns this machine.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === 'string' ? warning : warning?.message;
  if (typeof text === 'string' && text.startsWith('NodeVersionSupportWarning')) return;
  emitWarning(warning, ...rest);
};

function loadHandler() {
  handlerPromise ??= (async () => {
    const file = ['.mjs', '.js', '.cjs']
      .map((ext) => join(codeDir, `${moduleName}${ext}`))
      .find((f) => existsSync(f));
    if (!file) throw new Error(`Cannot find module ${moduleName} in ${codeDir}`);
    // A reloaded bundle has the path of the one before: a new URL makes it a new module instance.
    const mod = await import(`${pathToFileURL(file).href}${codeVersion > 0 ? `?v=${codeVersion}` : ''}`);
    const fn = mod[exportName] ?? mod.default?.[exportName];
    if (typeof fn !== 'function') throw new Error(`${handlerSpec} is undefined or not exported`);
    return fn;
  })();
  return handlerPromise;
}

function serializeError(error) {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) };
}

async function invoke(message) {
  const { id, event, context: info } = message;
  // Loading the handler module is Lambda's init phase: it is not counted in the invocation's time.
  // (from when the runtime sent the invocation: starting this process is part of it too)
  let initMs = 0;
  if (!handlerReady) {
    const failed = await loadHandler().then(
      () => false,
      () => true,
    );
    if (!failed) {
      handlerReady = true;
      initMs = Math.max(0, Date.now() - (info.sentAt ?? Date.now()));
      process.send({ type: 'init', id, ms: initMs });
    }
  }
  const deadline = info.deadline + initMs;
  const context = {
    ...info,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    succeed: () => {},
    fail: () => {},
  };
  try {
    const handler = await loadHandler();
    const result =
      handler.length >= 3
        ? await new Promise((resolve, reject) => {
            const maybe = handler(event, context, (error, value) => (error ? reject(error) : resolve(value)));
            if (maybe && typeof maybe.then === 'function') maybe.then(resolve, reject);
          })
        : await handler(event, context);
    const records = takeOutcomes(event);
    process.send({ type: 'result', id, ok: true, result: result === undefined ? null : result, records });
  } catch (error) {
    const records = takeOutcomes(event);
    process.send({ type: 'result', id, ok: false, error: serializeError(error), records });
  }
}

process.on('message', (message) => {
  if (message?.type === 'invoke') void invoke(message);
  else if (message?.type === 'load' && typeof message.codeDir === 'string') {
    // The dev loop rebuilt this function: later invocations run the new bundle (loaded now, with fresh
    // module state; the AWS SDK, outside the bundle, stays loaded), those in flight finish on the old one.
    codeDir = message.codeDir;
    process.env.LAMBDA_TASK_ROOT = codeDir;
    codeVersion++;
    handlerPromise = undefined;
    loadHandler().catch(() => {});
  }
});
process.on('unhandledRejection', (reason) => {
  console.error('Unhandled promise rejection:', reason);
  process.exit(128);
});
// The runtime went away (even by SIGKILL): an execution environment never outlives it.
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
