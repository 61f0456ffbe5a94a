/**
 * The worker's side of replays (see common/replays.ts for what a replay's ops record says): reads
 * the record of a replayed event's replay and counts each replayed message's final outcome on it.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  REPLAY_PARTITION,
  type ReplayCounter,
  type ReplayOpsRecord,
  replayRerunId,
} from '../../common/replays.ts';

/** Reads the replay ops records (cached per replay for the life of the execution environment). */
export class ReplayLedger {
  private readonly records = new Map<string, Promise<ReplayOpsRecord | undefined>>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private record(name: string): Promise<ReplayOpsRecord | undefined> {
    let found = this.records.get(name);
    if (!found) {
      // The record is written before the replay starts, so an answer (present or absent) holds for good.
      found = this.doc
        .send(new GetCommand({ TableName: this.table, Key: { eventId: REPLAY_PARTITION, rpc: name } }))
        .then((out) => out.Item as ReplayOpsRecord | undefined);
      found.catch(() => this.records.delete(name));
      this.records.set(name, found);
    }
    return found;
  }

  /** The RerunId of replay `name` for `rpc` when the operator asked it to rerun completed deliveries. */
  async rerunIdFor(name: string, rpc: string): Promise<string | undefined> {
    const record = await this.record(name);
    return record?.rerunCompleted === true && record.rpcs.includes(rpc) ? replayRerunId(name) : undefined;
  }

  /** Counts one replayed message's final outcome on the replay's ops record, if the tool started it. */
  async count(name: string, rpc: string, counter: ReplayCounter): Promise<void> {
    if (!(await this.record(name))) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { eventId: REPLAY_PARTITION, rpc: name },
        UpdateExpression: 'ADD #c :one',
        ConditionExpression: 'attribute_exists(eventId)',
        ExpressionAttributeNames: { '#c': `${counter}#${rpc}` },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }
}
