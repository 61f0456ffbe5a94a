/**
 * Turns an {@link RpcRunner} into the Lambda handler of an SQS event source: middy with the
 * Powertools logger middleware around the batch pipeline of worker.ts.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliveryRequests, dynamo, eventBus, queue } from './clients.ts';
import { logger } from './logger.ts';
import { createBatchHandler, type RpcRunner, type WorkerDependencies, type WorkerOptions } from './worker.ts';

/** A worker's Lambda handler. */
export interface WorkerHandler {
  (event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
  /**
   * The same worker with some dependencies replaced: in tests, a DynamoDB client pointed at
   * dynalite, a recording SQS port (there is no local SQS in unit tests), a clock, configuration.
   */
  withDependencies(overrides: Partial<WorkerDependencies>): WorkerHandler;
}

const defaultDependencies: WorkerDependencies = {
  dynamo,
  deliveryRequests,
  queue,
  eventBus,
  logger,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Builds a worker handler around `runner`. */
export function createWorkerHandler(
  runner: RpcRunner,
  options: WorkerOptions = {},
  overrides: Partial<WorkerDependencies> = {},
): WorkerHandler {
  const deps: WorkerDependencies = { ...defaultDependencies, ...replacing({}, overrides) };
  const batch = createBatchHandler(runner, options, deps);
  const wrapped = middy<SQSEvent, SQSBatchResponse, Error, Context>(batch).use(
    injectLambdaContext(deps.logger, { resetKeys: true }),
  );
  return Object.assign((event: SQSEvent, context: Context) => wrapped(event, context), {
    withDependencies: (more: Partial<WorkerDependencies>) =>
      createWorkerHandler(runner, options, replacing(overrides, more)),
  });
}

/**
 * `base` with `more` applied. Replacing `dynamo` without `deliveryRequests` drops the one set
 * before, so that every DynamoDB request goes to the DynamoDB just given (a test's offline client).
 */
function replacing(
  base: Partial<WorkerDependencies>,
  more: Partial<WorkerDependencies>,
): Partial<WorkerDependencies> {
  const dropsRequests = 'dynamo' in more && !('deliveryRequests' in more);
  return { ...base, ...(dropsRequests ? { deliveryRequests: undefined } : {}), ...more };
}
