/**
 * The shared resources of a router: one bus with its archive, the deliveries table and the alarm topic.
 */
import { Arn, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEAD_INDEX, DELIVERIES_TABLE } from '../../common/contracts.ts';
import type { CorePlan } from '../plan/types.ts';
import { checkRange, failOnProblems } from './validation.ts';

export interface RouterCoreProps {
  /** Names and archive retention (from the planner). */
  readonly core: CorePlan;
  /**
   * What happens to the deliveries table and the alarm key when they leave the stack. Unless it is
   * DESTROY, the table also has deletion protection on (so it cannot be deleted by hand either).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * - the EventBridge bus every event goes through, and an archive of it (for replays);
 * - the deliveries table: PK `eventId`, SK `rpc`, on-demand, TTL on `expiresAt`, point-in-time recovery,
 *   encrypted with an AWS-managed key, retained and deletion-protected by default;
 * - the alarm topic, encrypted with a customer-managed key that CloudWatch may use (an alarm cannot
 *   publish to a topic encrypted with the AWS-managed SNS key), TLS-only. CloudWatch may publish and use
 *   the key only for this account's alarms named `<app>-<stage>-*` (`aws:SourceAccount` and
 *   `aws:SourceArn` conditions), which every alarm of the router is.
 */
export class RouterCore extends Construct {
  readonly bus: events.EventBus;
  readonly archive: events.Archive;
  readonly table: dynamodb.Table;
  readonly alarmTopic: sns.Topic;
  readonly alarmKey: kms.Key;

  constructor(scope: Construct, id: string, props: RouterCoreProps) {
    super(scope, id);
    const { core } = props;
    const problems: string[] = [];
    checkRange(problems, 'core.archiveRetentionDays', core.archiveRetentionDays, 0, 36500, ' days');
    failOnProblems(scope, `RouterCore ${id}`, problems);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.bus = new events.EventBus(this, 'Bus', { eventBusName: core.busName });
    this.archive = this.bus.archive('Archive', {
      archiveName: core.archiveName,
      description: `Every event on ${core.busName}, for replays`,
      eventPattern: { account: [Stack.of(this).account] },
      // 0 = keep forever (no retention set).
      ...(core.archiveRetentionDays > 0 ? { retention: Duration.days(core.archiveRetentionDays) } : {}),
    });

    this.table = new dynamodb.Table(this, 'Deliveries', {
      tableName: core.deliveriesTableName,
      partitionKey: { name: DELIVERIES_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DELIVERIES_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: DELIVERIES_TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy,
    });
    // Sparse: only DEAD records carry its key, so it holds exactly the dead deliveries (failure groups).
    this.table.addGlobalSecondaryIndex({
      indexName: core.deadIndexName,
      partitionKey: { name: DEAD_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DEAD_INDEX.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...DEAD_INDEX.projected],
    });

    // Only this account's alarms of this router may publish (no confused deputy through CloudWatch).
    const fromRouterAlarms = {
      StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      ArnLike: {
        'aws:SourceArn': Arn.format(
          {
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: `${core.alarmNamePrefix}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          },
          Stack.of(this),
        ),
      },
    };

    this.alarmKey = new kms.Key(this, 'AlarmKey', {
      description: `Encrypts the alarm topic ${core.alarmTopicName}`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.alarmKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromRouterAlarms,
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      topicName: core.alarmTopicName,
      displayName: `${core.busName} alarms`,
      masterKey: this.alarmKey,
      enforceSSL: true,
    });
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: fromRouterAlarms,
      }),
    );
  }
}
