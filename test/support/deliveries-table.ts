/**
 * The deliveries table's key (eventId + rpc, from contracts.ts), as the core stack declares it: for the
 * CDK test's expectation and for the tables and hand-written templates of tests and benchmarks.
 */
import type { AttributeDefinition, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { DELIVERIES_TABLE } from '../../common/contracts.ts';

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

/** A template resource declaring an on-demand deliveries table named `tableName`. */
export function deliveriesTableResource(tableName: string) {
  return {
    Type: 'AWS::DynamoDB::Table',
    Properties: { TableName: tableName, ...deliveriesTableKey(), BillingMode: 'PAY_PER_REQUEST' },
  };
}
