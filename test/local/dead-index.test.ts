/**
 * The deliveries table's sparse index of dead deliveries in the local runtime: created with the table
 * from the templates; only records that carry `deadRpc` are in it. A table of a state directory made
 * before the templates had the index keeps running without it (dynalite cannot add an index), and the
 * failure groups then come from the DLQs.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DEAD_INDEX } from '../../common/contracts.ts';
import { deliveriesTableResource } from '../support/deliveries-table.ts';
import { type Harness, startHarness, writeStackAssembly } from './helpers.ts';

const TABLE = 'idx-dev-deliveries';

describe('the sparse index of dead deliveries, locally', () => {
  it('holds only the DEAD records; a table from an older state directory runs on without it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'er-dead-index-'));
    const query = (h: Harness) =>
      h.dynamodb.send(
        new QueryCommand({
          TableName: TABLE,
          IndexName: DEAD_INDEX.name,
          KeyConditionExpression: '#r = :r',
          ExpressionAttributeNames: { '#r': DEAD_INDEX.partitionKey },
          ExpressionAttributeValues: { ':r': { S: 'A/B' } },
        }),
      );
    const put = (h: Harness, item: Record<string, { S: string } | { N: string }>) =>
      h.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item }));
    try {
      // Given templates that declare the index: a DEAD record is in it, a COMPLETED one is not
      const withIndex = join(root, 'with');
      mkdirSync(withIndex, { recursive: true });
      writeStackAssembly(withIndex, 'idx-dev', {
        Resources: { Deliveries: deliveriesTableResource(TABLE, { deadIndex: true }) },
      });
      let h = await startHarness({ cdkOut: withIndex, inMemory: false, stateDir: join(root, 'fresh') });
      try {
        await put(h, {
          eventId: { S: 'e-1' },
          rpc: { S: 'A/B' },
          status: { S: 'DEAD' },
          deadRpc: { S: 'A/B' },
          deadAt: { N: '1' },
        });
        await put(h, { eventId: { S: 'e-2' }, rpc: { S: 'A/B' }, status: { S: 'COMPLETED' } });
        const { Items = [] } = await query(h);
        assert.deepEqual(
          Items.map((i) => i.eventId?.S),
          ['e-1'],
        );
      } finally {
        await h.close();
      }
      // And a state directory whose table was made without it keeps its table (and its records)
      const without = join(root, 'without');
      mkdirSync(without, { recursive: true });
      writeStackAssembly(without, 'idx-dev', { Resources: { Deliveries: deliveriesTableResource(TABLE) } });
      const older = join(root, 'older');
      h = await startHarness({ cdkOut: without, inMemory: false, stateDir: older });
      await put(h, { eventId: { S: 'e-3' }, rpc: { S: 'A/B' }, status: { S: 'DEAD' } });
      await h.close();
      h = await startHarness({ cdkOut: withIndex, inMemory: false, stateDir: older });
      try {
        await assert.rejects(query(h), /does not have the specified index/);
      } finally {
        await h.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
