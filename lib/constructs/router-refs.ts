/**
 * The core resources as seen from a service stack: found by their conventional names, never through
 * stack exports (so each service stack deploys on its own).
 */
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { AlarmsPlan, CorePlan } from '../plan/types.ts';

export interface RouterRefs {
  readonly bus: events.IEventBus;
  readonly tableName: string;
  readonly tableArn: string;
  /** The topic every alarm notifies: the router's own, or the one named in the YAML. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Whether alarms notify the topic on their return to OK as well.
   * @default false
   */
  readonly alarmOkActions?: boolean;
}

/**
 * Imports the bus, the deliveries table and the alarm topic by name, in the account and region of
 * `scope`. With `alarms` naming a topic, alarms notify that one (by its ARN) instead.
 */
export function routerRefs(scope: Construct, core: CorePlan, alarms?: AlarmsPlan): RouterRefs {
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
    alarmTopic: sns.Topic.fromTopicArn(scope, 'AlarmTopic', alarms?.topicArn ?? topicArn),
    alarmOkActions: alarms?.okActions ?? false,
  };
}

/** ARN of a queue in the account and region of `scope`, from its name. */
export function queueArnFor(scope: Construct, queueName: string): string {
  return Arn.format(
    { service: 'sqs', resource: queueName, arnFormat: ArnFormat.NO_RESOURCE_NAME },
    Stack.of(scope),
  );
}
