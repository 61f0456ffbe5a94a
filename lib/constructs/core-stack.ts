/**
 * The core stack: what every service stack relies on, found by name.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Plan } from '../plan/types.ts';
import { OpsRecordsPolicy } from './dlq-operator-policy.ts';
import { PublishApi } from './publish-api.ts';
import { PublisherPolicy } from './publisher-policy.ts';
import { RouterCore } from './router-core.ts';

export interface CoreStackProps extends StackProps {
  /** The plan (names of the core resources, the publish API, the publishers). */
  readonly plan: Plan;
}

/**
 * Bus, archive, deliveries table, alarm topic, the publish API, and the managed policy of each external
 * publisher that puts its events on the bus itself.
 */
export class CoreStack extends Stack {
  readonly core: RouterCore;

  constructor(scope: Construct, id: string, props: CoreStackProps) {
    super(scope, id, {
      description: `event-router ${props.plan.names.app}/${props.plan.names.stage}: bus, deliveries table, alarm topic, publish API`,
      ...props,
    });
    this.core = new RouterCore(this, 'Router', { core: props.plan.core });
    new OpsRecordsPolicy(this, 'OpsRecords', {
      managedPolicyName: props.plan.opsRecordsPolicyName,
      tableArn: this.core.table.tableArn,
      archiveArn: this.core.archive.archiveArn,
      replayNamePrefix: props.plan.replayNamePrefix,
    });

    // ---- publish API -------------------------------------------------------------------------------
    new PublishApi(this, 'PublishApi', {
      api: props.plan.publishApi,
      bus: this.core.bus,
      table: this.core.table,
    });
    // ---------------------------------------------------------------------------------------------------

    for (const publisher of props.plan.publishers)
      if (publisher.policyName)
        new PublisherPolicy(this, `Publisher${publisher.name}`, { publisher, bus: this.core.bus });
  }
}
