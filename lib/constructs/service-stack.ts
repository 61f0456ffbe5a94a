/**
 * A service stack (or one shard of a service): the RPCs of the service and the rules that feed them.
 */
import { Annotations, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { kebabCase } from '../../common/case.ts';
import type { Plan, RpcPlan, ServiceStackPlan } from '../plan/types.ts';
import { ruleFailedInvocationsAlarm } from './alarms.ts';
import { DlqOperatorPolicy } from './dlq-operator-policy.ts';
import { routerRefs } from './router-refs.ts';
import { RpcWorker } from './rpc-worker.ts';
import { SubscriptionRule } from './subscription-rule.ts';

export interface ServiceStackProps extends StackProps {
  /** The whole plan (core names, retention). */
  readonly plan: Plan;
  /** What this stack holds. */
  readonly stack: ServiceStackPlan;
  /**
   * Ready-made worker code per RPC; an RPC for which it returns undefined is bundled by esbuild.
   * @default - every worker is bundled by esbuild at synth time
   */
  readonly codeFor?: (rpc: RpcPlan) => lambda.Code | undefined;
  /**
   * Retention of the workers' log groups.
   * @default - RouterFunction's default (one month)
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Declares, for each RPC of the shard, its RpcWorker, then the shard's rules, then lets each queue accept
 * exactly the rules that target it, and the ops policy over the shard's queues and DLQs. The bus, table
 * and alarm topic are found by name (no exports).
 */
export class ServiceStack extends Stack {
  readonly workers: ReadonlyMap<string, RpcWorker>;
  readonly rules: readonly SubscriptionRule[];
  /** The policy ops attach to inspect and redrive this stack's DLQs (named by the convention). */
  readonly operatorPolicy: DlqOperatorPolicy;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    const { plan, stack } = props;
    const serviceLabel = `${stack.service}${stack.shard > 0 ? ` (part ${stack.shard + 1})` : ''}`;
    super(scope, id, {
      description: `event-router ${plan.names.app}/${plan.names.stage}: ${serviceLabel}, ${stack.rpcs.length} RPCs`,
      ...props,
    });
    const refs = routerRefs(this, plan.core, plan.alarms);

    const workers = new Map<string, RpcWorker>();
    for (const rpc of stack.rpcs) {
      const code = props.codeFor?.(rpc);
      workers.set(
        rpc.id,
        new RpcWorker(this, kebabCase(rpc.method), {
          rpc,
          names: plan.names,
          refs,
          recordRetentionSeconds: plan.dedupRetentionSeconds,
          ...(code === undefined ? {} : { code }),
          ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
        }),
      );
    }
    this.workers = workers;
    this.operatorPolicy = new DlqOperatorPolicy(this, 'DlqOperator', {
      managedPolicyName: stack.dlqOperatorPolicyName,
      viewerPolicyName: stack.dlqViewerPolicyName,
      serviceLabel,
      workers: [...workers.values()],
      refs,
    });

    const ruleArns = new Map<string, string[]>();
    this.rules = stack.rules.map((rule) => {
      const construct = new SubscriptionRule(this, `Rule-${rule.name}`, { rule, bus: refs.bus, workers });
      ruleFailedInvocationsAlarm(construct, rule, plan.core.busName, refs);
      for (const target of rule.targets) {
        ruleArns.set(target.rpc, [...(ruleArns.get(target.rpc) ?? []), construct.ruleArn]);
      }
      return construct;
    });
    for (const [rpcId, worker] of workers) {
      const arns = ruleArns.get(rpcId) ?? [];
      worker.allowRules(arns);
      if (arns.length === 0) {
        Annotations.of(worker).addWarningV2(
          '@event-router/unreached-rpc',
          `No event is delivered to ${rpcId}: its worker is deployed but will never run. Subscribe it to an event or remove it.`,
        );
      }
    }
  }
}
