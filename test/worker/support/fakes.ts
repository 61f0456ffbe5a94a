/**
 * Recording stand-ins for SQS and EventBridge. Unit tests of the worker have no local SQS or
 * EventBridge to talk to (the local runtime provides them end to end), so the worker's two ports are
 * replaced here, and only here: they record the exact SendMessage / ChangeMessageVisibility /
 * PutEvents inputs the worker would send.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type {
  PutEventsCommandInput,
  PutEventsCommandOutput,
  PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import type { ChangeMessageVisibilityCommandInput, SendMessageCommandInput } from '@aws-sdk/client-sqs';
import type { EventBusPort, QueuePort } from '../../../functions/commons/ports.ts';

export class RecordingQueue implements QueuePort {
  readonly sent: SendMessageCommandInput[] = [];
  readonly visibility: ChangeMessageVisibilityCommandInput[] = [];
  /** Makes the next N sends fail, as an unavailable SQS would. */
  failNextSends = 0;

  async sendMessage(input: SendMessageCommandInput): Promise<void> {
    if (this.failNextSends > 0) {
      this.failNextSends--;
      throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
    }
    this.sent.push(input);
  }

  async changeMessageVisibility(input: ChangeMessageVisibilityCommandInput): Promise<void> {
    this.visibility.push(input);
  }
}

export class RecordingBus implements EventBusPort {
  readonly calls: PutEventsCommandInput[] = [];
  /** Entries accepted (what downstream would see). */
  readonly accepted: NonNullable<PutEventsCommandInput['Entries']>[number][] = [];
  /** The next N PutEvents calls report their entries as failed (HTTP 200, FailedEntryCount > 0). */
  rejectNext = 0;

  async putEvents(input: PutEventsCommandInput): Promise<PutEventsCommandOutput> {
    this.calls.push(input);
    const entries = input.Entries ?? [];
    if (this.rejectNext > 0) {
      this.rejectNext--;
      const failed: PutEventsResultEntry[] = entries.map(() => ({
        ErrorCode: 'InternalFailure',
        ErrorMessage: 'try again',
      }));
      return { FailedEntryCount: entries.length, Entries: failed, $metadata: {} };
    }
    this.accepted.push(...entries);
    return {
      FailedEntryCount: 0,
      Entries: entries.map((_, i) => ({ EventId: `eb-${this.accepted.length + i}` })),
      $metadata: {},
    };
  }
}

/** A logger that prints nothing (tests that assert on logs capture a real one instead). */
export function quietLogger(): Logger {
  return new Logger({ serviceName: 'test', logLevel: 'SILENT' });
}

/** The clock the test moves by hand: the one the local runtime's tests use too. */
export { ManualClock } from '../../support/clock.ts';

/** A promise the test resolves when it wants a handler to go on. */
export function gate(): { readonly wait: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}
