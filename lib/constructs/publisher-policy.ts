/**
 * The managed policy of an external publisher that puts its events on the bus itself (`putsOnBus: true`):
 * `events:PutEvents` on the router's bus with exactly its source and its events. Attach it to the
 * publisher's role; anything else it puts on the bus is refused by IAM, and a rule would not deliver it.
 */

import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { PublisherPlan } from '../plan/types.ts';
import { failOnProblems } from './validation.ts';

export interface PublisherPolicyProps {
  /** The publisher as planned; its `policyName` names the policy. */
  readonly publisher: PublisherPlan;
  /** The router's bus. */
  readonly bus: events.IEventBus;
}

/** A customer-managed policy `<app>-<stage>-<publisher>-publisher`. */
export class PublisherPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: PublisherPolicyProps) {
    super(scope, id);
    const { publisher } = props;
    const problems: string[] = [];
    if (!publisher.policyName)
      problems.push(
        `publisher ${publisher.name} has no policyName; only a publisher with putsOnBus gets a policy.`,
      );
    if (publisher.events.length === 0)
      problems.push(`publisher ${publisher.name} publishes no event; a policy would allow nothing.`);
    failOnProblems(this, `PublisherPolicy ${id}`, problems);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: publisher.policyName,
      description: `Lets ${publisher.name} put its events on ${props.bus.eventBusName} (source ${publisher.source}).`,
      statements: [
        new iam.PolicyStatement({
          sid: 'PutOwnEvents',
          actions: ['events:PutEvents'],
          resources: [props.bus.eventBusArn],
          conditions: {
            StringEquals: {
              'events:source': publisher.source,
              'events:detail-type': [...publisher.events],
            },
          },
        }),
      ],
    });
  }
}
