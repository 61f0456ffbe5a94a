/**
 * The deliveries table's key (eventId + rpc, from contracts.ts), as the core stack declares it: for the
 * CDK test's expectation and for the tables and hand-written templates of tests and benchmarks.
 */
import type { AttributeDefinition, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { DEAD_INDEX, DELIVERIES_TABLE } from '../../common/contracts.ts';

/** KeySchema and AttributeDefinitions of a deliveries table (a fresh object on every call). */
export function deliveriesTableKey(): {
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
} {
  return {
    KeySchema: [
      { AttributeName: DELIVERIES_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: DELIVERIES_TABLE.sortKey, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: DELIVERIES_TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: DELIVERIES_TABLE.sortKey, AttributeType: 'S' },
    ],
  };
}

/**
 * A template resource declaring an on-demand deliveries table named `tableName`; with `deadIndex`, also
 * the sparse index of dead deliveries the core stack declares (DEAD_INDEX).
 */
export function deliveriesTableResource(tableName: string, options: { readonly deadIndex?: boolean } = {}) {
  const key = deliveriesTableKey();
  if (!options.deadIndex)
    return {
      Type: 'AWS::DynamoDB::Table',
      Properties: { TableName: tableName, ...key, BillingMode: 'PAY_PER_REQUEST' },
    };
  return {
    Type: 'AWS::DynamoDB::Table',
    Properties: {
      TableName: tableName,
      KeySchema: key.KeySchema,
      AttributeDefinitions: [
        ...key.AttributeDefinitions,
        { AttributeName: DEAD_INDEX.partitionKey, AttributeType: 'S' },
        { AttributeName: DEAD_INDEX.sortKey, AttributeType: 'N' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: DEAD_INDEX.name,
          KeySchema: [
            { AttributeName: DEAD_INDEX.partitionKey, KeyType: 'HASH' },
            { AttributeName: DEAD_INDEX.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...DEAD_INDEX.projected] },
        },
      ],
    },
  };
}
