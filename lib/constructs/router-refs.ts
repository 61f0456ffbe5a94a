/**
 * The core resources as seen from a service stack: found by their conventional names, never through
 * stack exports (so each service stack deploys on its own).
 */
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { CorePlan } from '../plan/types.ts';

export interface RouterRefs {
  readonly bus: events.IEventBus;
  readonly tableName: string;
  readonly tableArn: string;
  readonly alarmTopic: sns.ITopic;
}

/** Imports the bus, the deliveries table and the alarm topic by name, in the account and region of `scope`. */
export function routerRefs(scope: Construct, core: CorePlan): RouterRefs {
  const stack = Stack.of(scope);
  const tableArn = Arn.format(
    {
      service: 'dynamodb',
      resource: 'table',
      resourceName: core.deliveriesTableName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    },
    stack,
  );
  const topicArn = Arn.format(
    { service: 'sns', resource: core.alarmTopicName, arnFormat: ArnFormat.NO_RESOURCE_NAME },
    stack,
  );
  return {
    bus: events.EventBus.fromEventBusName(scope, 'Bus', core.busName),
    tableName: core.deliveriesTableName,
    tableArn,
    alarmTopic: sns.Topic.fromTopicArn(scope, 'AlarmTopic', topicArn),
  };
}

/** ARN of a queue in the account and region of `scope`, from its name. */
export function queueArnFor(scope: Construct, queueName: string): string {
  return Arn.format(
    { service: 'sqs', resource: queueName, arnFormat: ArnFormat.NO_RESOURCE_NAME },
    Stack.of(scope),
  );
}
