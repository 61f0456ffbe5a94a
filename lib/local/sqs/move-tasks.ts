/**
 * Message move tasks (StartMessageMoveTask / ListMessageMoveTasks / CancelMessageMoveTask): move the
 * messages of a dead-letter queue back to their source queue (or to a given destination) at a rate,
 * one active task per source queue.
 */
import { randomUUID } from 'node:crypto';
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

export class MoveTasks {
  private readonly tasks: MoveTask[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly store: QueueStore) {}

  start(input: {
    SourceArn?: string;
    DestinationArn?: string;
    MaxNumberOfMessagesPerSecond?: number;
  }): string {
    if (!input.SourceArn) throw sqsErrors.missingParameter('SourceArn');
    const source = this.store.byArn(input.SourceArn);
    if (!source)
      throw sqsErrors.resourceNotFound(
        `The resource that you specified for the SourceArn parameter doesn't exist: ${input.SourceArn}`,
      );
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
          `The resource that you specified for the DestinationArn parameter doesn't exist: ${input.DestinationArn}`,
        );
    } else if (this.store.sourcesOf(source).length === 0) {
      throw sqsErrors.invalidParameterValue(
        `Source queue ${input.SourceArn} is not the dead-letter queue of any queue; give a DestinationArn.`,
      );
    }
    if (
      this.tasks.some(
        (t) => t.sourceArn === source.arn && (t.status === 'RUNNING' || t.status === 'CANCELLING'),
      )
    )
      throw sqsErrors.unsupportedOperation(
        `There is already a message movement task running for ${source.arn}; only one active task per queue is allowed.`,
      );
    const task: MoveTask = {
      taskHandle: Buffer.from(JSON.stringify({ id: randomUUID(), source: source.arn })).toString('base64'),
      sourceArn: source.arn,
      destinationArn: destination?.arn,
      maxNumberOfMessagesPerSecond: rate,
      startedTimestamp: Date.now(),
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
    const perTick = Math.max(1, Math.round((task.maxNumberOfMessagesPerSecond ?? DEFAULT_RATE) / 10));
    const step = () => {
      if (task.status !== 'RUNNING') {
        this.stop(task);
        return;
      }
      let n = 0;
      for (const message of source.visibleMessages()) {
        if (n >= perTick || task.moved >= task.toMove) break;
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
        n++;
      }
      if (task.status === 'RUNNING' && (task.moved >= task.toMove || n === 0)) task.status = 'COMPLETED';
      if (task.status !== 'RUNNING') this.stop(task);
    };
    const timer = setInterval(step, 100);
    this.timers.set(task.taskHandle, timer);
    setImmediate(step);
  }

  private stop(task: MoveTask): void {
    if (task.status === 'CANCELLING') task.status = 'CANCELLED';
    const timer = this.timers.get(task.taskHandle);
    if (timer) clearInterval(timer);
    this.timers.delete(task.taskHandle);
  }

  cancel(taskHandle: string | undefined): number {
    if (!taskHandle) throw sqsErrors.missingParameter('TaskHandle');
    const task = this.tasks.find((t) => t.taskHandle === taskHandle);
    if (!task) throw sqsErrors.resourceNotFound(`Task does not exist: ${taskHandle}`);
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
    if (!this.store.byArn(sourceArn))
      throw sqsErrors.resourceNotFound(
        `The resource that you specified for the SourceArn parameter doesn't exist: ${sourceArn}`,
      );
    if (maxResults < 1 || maxResults > 10)
      throw sqsErrors.invalidParameterValue(
        `Value ${maxResults} for parameter MaxResults is invalid. Reason: must be between 1 and 10.`,
      );
    return this.tasks.filter((t) => t.sourceArn === sourceArn).slice(0, maxResults);
  }

  close(): void {
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
  }
}
