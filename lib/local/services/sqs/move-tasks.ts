/**
 * Message move tasks (StartMessageMoveTask / ListMessageMoveTasks / CancelMessageMoveTask): move the
 * messages of a dead-letter queue back to their source queue (or to a given destination) at a rate,
 * one active task per source queue.
 */
import { randomUUID } from 'node:crypto';
import type { Timer } from '../../clock.ts';
import { sqsErrors } from '../aws-error.ts';
import type { Queue } from './queue.ts';
import type { QueueStore } from './store.ts';

export type MoveTaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

export interface MoveTask {
  readonly taskHandle: string;
  readonly sourceArn: string;
  readonly destinationArn: string | undefined;
  readonly maxNumberOfMessagesPerSecond: number | undefined;
  readonly startedTimestamp: number;
  status: MoveTaskStatus;
  moved: number;
  readonly toMove: number;
  failureReason?: string;
}

/** Rate when the caller sets none ("system optimized"). */
const DEFAULT_RATE = 500;
const MAX_RATE = 500;
const TICK_MS = 100;

const NO_SOURCE = "The resource that you specified for the SourceArn parameter doesn't exist.";

/** A task handle as SQS builds it: base64 of `{"taskId":...,"sourceArn":...}`. */
function encodeTaskHandle(taskId: string, sourceArn: string): string {
  return Buffer.from(JSON.stringify({ taskId, sourceArn }), 'utf8').toString('base64');
}

function decodeTaskHandle(handle: string): { taskId: string; sourceArn: string } | undefined {
  try {
    const doc = JSON.parse(Buffer.from(handle, 'base64').toString('utf8')) as Record<string, unknown>;
    if (typeof doc.taskId === 'string' && typeof doc.sourceArn === 'string')
      return { taskId: doc.taskId, sourceArn: doc.sourceArn };
  } catch {
    // not JSON: malformed handle
  }
  return undefined;
}

export class MoveTasks {
  private readonly tasks: MoveTask[] = [];
  private readonly timers = new Map<string, Timer>();

  constructor(private readonly store: QueueStore) {}

  start(input: {
    SourceArn?: string;
    DestinationArn?: string;
    MaxNumberOfMessagesPerSecond?: number;
  }): string {
    if (!input.SourceArn) throw sqsErrors.missingParameter('SourceArn');
    const source = this.store.byArn(input.SourceArn);
    if (!source) throw sqsErrors.resourceNotFound(NO_SOURCE);
    const rate = input.MaxNumberOfMessagesPerSecond;
    if (rate !== undefined && (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE))
      throw sqsErrors.invalidParameterValue(
        `Value ${rate} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be between 1 and ${MAX_RATE}.`,
      );
    let destination: Queue | undefined;
    if (input.DestinationArn) {
      destination = this.store.byArn(input.DestinationArn);
      if (!destination)
        throw sqsErrors.resourceNotFound(
          "The resource that you specified for the DestinationArn parameter doesn't exist.",
        );
    }
    if (this.store.sourcesOf(source).length === 0)
      throw sqsErrors.invalidParameterValue('Source queue must be configured as a Dead Letter Queue.');
    if (
      this.tasks.some(
        (t) => t.sourceArn === source.arn && (t.status === 'RUNNING' || t.status === 'CANCELLING'),
      )
    )
      throw sqsErrors.invalidParameterValue(
        'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
      );
    const task: MoveTask = {
      taskHandle: encodeTaskHandle(randomUUID(), source.arn),
      sourceArn: source.arn,
      destinationArn: destination?.arn,
      maxNumberOfMessagesPerSecond: rate,
      startedTimestamp: this.store.clock.now(),
      status: 'RUNNING',
      moved: 0,
      toMove: source.counts().visible,
    };
    this.tasks.unshift(task);
    this.schedule(task, source, destination);
    return task.taskHandle;
  }

  private schedule(task: MoveTask, source: Queue, destination: Queue | undefined): void {
    // A message sent to the DLQ directly (not by a redrive policy) carries no source queue; when
    // exactly one queue uses this DLQ, that queue is where it came from.
    const sources = this.store.sourcesOf(source);
    const onlySource = sources.length === 1 ? sources[0] : undefined;
    // The rate is a budget of messages that grows with elapsed time, so rates below one per tick
    // (e.g. 1 message/s) are honoured too; the first tick moves at once.
    const rate = task.maxNumberOfMessagesPerSecond ?? DEFAULT_RATE;
    let budget = Math.max(1, rate / (1000 / TICK_MS));
    const clock = this.store.clock;
    let last = clock.now();
    const step = () => {
      if (task.status !== 'RUNNING') {
        this.stop(task);
        return;
      }
      const now = clock.now();
      budget = Math.min(budget + ((now - last) / 1000) * rate, Math.max(1, rate));
      last = now;
      if (destination && this.store.get(destination.name) !== destination) {
        task.status = 'FAILED';
        task.failureReason = 'AWS.SimpleQueueService.NonExistentQueue';
        this.stop(task);
        return;
      }
      let visible = 0;
      for (const message of source.visibleMessages()) {
        visible++;
        if (budget < 1 || task.moved >= task.toMove) break;
        const target =
          destination ??
          (message.deadLetterSourceArn ? this.store.byArn(message.deadLetterSourceArn) : onlySource);
        if (!target) {
          task.status = 'FAILED';
          task.failureReason = `Message ${message.id} has no known source queue (DeadLetterQueueSourceArn ${message.deadLetterSourceArn ?? 'missing'}).`;
          break;
        }
        source.deleteById(message.id);
        target.adopt(message, { keepSentAt: false });
        task.moved++;
        budget--;
      }
      if (task.status === 'RUNNING' && (task.moved >= task.toMove || visible === 0))
        task.status = 'COMPLETED';
      if (task.status !== 'RUNNING') this.stop(task);
    };
    const timer = clock.every(TICK_MS, step);
    this.timers.set(task.taskHandle, timer);
    setImmediate(step);
  }

  private stop(task: MoveTask): void {
    if (task.status === 'CANCELLING') task.status = 'CANCELLED';
    this.timers.get(task.taskHandle)?.cancel();
    this.timers.delete(task.taskHandle);
  }

  cancel(taskHandle: string | undefined): number {
    if (!taskHandle) throw sqsErrors.missingParameter('TaskHandle');
    const decoded = decodeTaskHandle(taskHandle);
    if (!decoded) throw sqsErrors.invalidParameterValue('Value for parameter TaskHandle is invalid.');
    if (!this.store.byArn(decoded.sourceArn)) throw sqsErrors.resourceNotFound(NO_SOURCE);
    const task = this.tasks.find((t) => t.taskHandle === taskHandle);
    if (!task) throw sqsErrors.resourceNotFound('Task does not exist.');
    if (task.status !== 'RUNNING')
      throw sqsErrors.unsupportedOperation(
        `Only a RUNNING task can be cancelled; this one is ${task.status}.`,
      );
    task.status = 'CANCELLING';
    this.stop(task);
    return task.moved;
  }

  list(sourceArn: string | undefined, maxResults = 1): MoveTask[] {
    if (!sourceArn) throw sqsErrors.missingParameter('SourceArn');
    if (!this.store.byArn(sourceArn)) throw sqsErrors.resourceNotFound(NO_SOURCE);
    if (maxResults < 1 || maxResults > 10)
      throw sqsErrors.invalidParameterValue(
        `Value ${maxResults} for parameter MaxResults is invalid. Reason: must be between 1 and 10.`,
      );
    return this.tasks.filter((t) => t.sourceArn === sourceArn).slice(0, maxResults);
  }

  close(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }
}
