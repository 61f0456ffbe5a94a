/**
 * IAM policies whose size grows with the YAML: each names events one by one under
 * `events:detail-type`, so enough publishers, events or follow-ups push them past IAM's limits and
 * the deploy fails at the role or policy. Checked here, at the YAML, with the numbers:
 * - the publish function's role: one statement per publisher the API serves (inline policies of one
 *   role together: IAM.rolePolicyChars);
 * - a publisher that puts on the bus itself: its managed policy (IAM.managedPolicyChars);
 * - an RPC's worker role: its follow-ups (inline, IAM.rolePolicyChars).
 *
 * Sizes are counted as IAM counts them (characters without whitespace) for the statements that grow,
 * with ARNs at their longest, plus what the rest of each document measured in synthesized templates
 * (rounded up), so a router this check passes deploys.
 */
import { IAM } from '../../common/aws-limits.ts';
import { publisherSource } from '../../common/naming.ts';
import { names } from '../naming.ts';
import { servedByPublishApi } from './publishers.ts';
import type { ExternalPublisherSpec, PublishApiAuth, RpcSpec, SourceLocation } from './types.ts';
import type { YamlReader } from './yaml-reader.ts';

/** Characters of the rest of each document (measured: publish role 375, worker role 970-1,000, publisher policy 38; with margin for resolved ARNs). */
const REST_OF_PUBLISH_ROLE = 1_000;
const REST_OF_WORKER_ROLE = 1_600;
const REST_OF_PUBLISHER_POLICY = 100;

/** The longest ARN of the bus: the longest partition and region, a 12-digit account. */
function busArn(bus: string): string {
  return `arn:aws-us-gov:events:ap-southeast-2:123456789012:event-bus/${bus}`;
}

/** One PutEvents statement as the constructs write it (publish-api.ts, publisher-policy.ts, rpc-worker.ts). */
function putEventsStatementChars(
  sid: string,
  bus: string,
  source: string,
  events: readonly string[],
): number {
  return JSON.stringify({
    Sid: sid,
    Effect: 'Allow',
    Action: 'events:PutEvents',
    Resource: busArn(bus),
    Condition: { StringEquals: { 'events:source': source, 'events:detail-type': events } },
  }).replace(/\s/g, '').length;
}

export interface PolicySizeInput {
  readonly app: string;
  readonly stage: string;
  readonly auth: PublishApiAuth;
  readonly publishers: readonly ExternalPublisherSpec[];
  readonly rpcs: readonly RpcSpec[];
  /** Where the `publishers:` section is, for a problem of the publish function's role. */
  readonly publishersLocation?: SourceLocation;
}

export function checkPolicySizes(reader: YamlReader, input: PolicySizeInput): void {
  const bus = names.busName({ app: input.app, stage: input.stage });
  const statement = (p: ExternalPublisherSpec, sid = `Publish${p.name}`) =>
    putEventsStatementChars(sid, bus, publisherSource(input.app, p.name), p.events) + 1;

  const served = input.publishers.filter((p) => servedByPublishApi(p, input.auth));
  const publishRole = REST_OF_PUBLISH_ROLE + served.reduce((sum, p) => sum + statement(p), 0);
  const at = input.publishersLocation ?? served.at(-1)?.location;
  if (publishRole > IAM.rolePolicyChars && at)
    reader.diagnostics.error(
      at,
      'policy-too-large',
      `The publish API serves ${served.length} publishers with ${served.reduce((n, p) => n + p.events.length, 0)} events between them; its function's role would need about ${publishRole} characters of policy, over IAM's ${IAM.rolePolicyChars} for a role's inline policies (each publisher's events are listed by name).`,
      'Serve fewer publishers through the publish API (a publisher with `putsOnBus` gets its own policy instead), or use shorter event names.',
    );

  for (const publisher of input.publishers) {
    if (!publisher.putsOnBus) continue;
    const size = REST_OF_PUBLISHER_POLICY + statement(publisher, 'PutOwnEvents');
    if (size > IAM.managedPolicyChars)
      reader.diagnostics.error(
        publisher.location,
        'policy-too-large',
        `Publisher ${publisher.name} may publish ${publisher.events.length} events; its managed policy lists them by name and would be about ${size} characters, over IAM's ${IAM.managedPolicyChars} for a managed policy.`,
        'Split it into several publishers (each with part of the events), or use shorter event names.',
      );
  }

  for (const rpc of input.rpcs) {
    if (rpc.publishes.length === 0) continue;
    const source = publisherSource(input.app, rpc.id);
    const size =
      REST_OF_WORKER_ROLE + putEventsStatementChars('PublishDeclaredEvents', bus, source, rpc.publishes) + 1;
    if (size > IAM.rolePolicyChars)
      reader.diagnostics.error(
        rpc.location,
        'policy-too-large',
        `${rpc.id} publishes ${rpc.publishes.length} follow-up events; its worker's role lists them by name and would need about ${size} characters of policy, over IAM's ${IAM.rolePolicyChars} for a role's inline policies.`,
        'Publish fewer kinds of follow-up from one RPC (split the RPC), or use shorter event names.',
      );
  }
}
