/**
 * The router's alarms besides DLQ depth: backlog and error rate per RPC, failed invocations per rule.
 * Each notifies the alarm topic of RouterRefs (the router's own, or the one named in the YAML), on
 * ALARM only unless OK notifications were asked for, and treats missing data as not breaching (an
 * idle queue or worker is healthy).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { RpcAlarmsPlan, RulePlan } from '../plan/types.ts';
import type { RouterRefs } from './router-refs.ts';

/** Window of the error-rate and failed-invocation alarms. */
export const ALARM_WINDOW = Duration.minutes(5);

/** Error-rate alarm: breaching in this many of the last ERROR_RATE_PERIODS windows. */
export const ERROR_RATE_DATAPOINTS = 2;
export const ERROR_RATE_PERIODS = 3;

/** Sends the alarm's ALARM (and, when asked, OK) notifications to the alarm topic of `refs`. */
export function notifyAlarmTopic(alarm: cloudwatch.Alarm, refs: RouterRefs): void {
  const action = new actions.SnsAction(refs.alarmTopic);
  alarm.addAlarmAction(action);
  if (refs.alarmOkActions) alarm.addOkAction(action);
}

/**
 * Backlog: the age of the oldest message on the queue (Maximum over a minute) reaches the planned age,
 * i.e. messages wait longer than the worker should ever take to pick them up.
 */
export function backlogAlarm(
  scope: Construct,
  rpcId: string,
  queue: sqs.IQueue,
  plan: RpcAlarmsPlan,
  refs: RouterRefs,
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, 'BacklogAge', {
    alarmName: plan.backlogAlarmName,
    alarmDescription: `The oldest message on the queue of ${rpcId} has waited ${plan.backlogAgeSeconds} s or more: its worker is not keeping up or not running. Check the worker's errors, throttles and concurrency.`,
    metric: queue.metricApproximateAgeOfOldestMessage({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
    threshold: plan.backlogAgeSeconds,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  notifyAlarmTopic(alarm, refs);
  return alarm;
}

/**
 * Error rate: 100 x Errors / Invocations of the worker over five minutes, counted only in windows with
 * at least `minInvocations` invocations (a quieter window reads 0), breaching in 2 of 3 windows.
 * Errors are failed invocations (the function threw or timed out); records reported back as batch item
 * failures are retries, not errors.
 */
export function errorRateAlarm(
  scope: Construct,
  rpcId: string,
  fn: lambda.IFunction,
  plan: RpcAlarmsPlan,
  refs: RouterRefs,
): cloudwatch.Alarm {
  const rate = new cloudwatch.MathExpression({
    expression: `IF(invocations >= ${plan.minInvocations}, 100 * errors / invocations, 0)`,
    usingMetrics: {
      errors: fn.metricErrors({ period: ALARM_WINDOW, statistic: cloudwatch.Stats.SUM }),
      invocations: fn.metricInvocations({ period: ALARM_WINDOW, statistic: cloudwatch.Stats.SUM }),
    },
    label: `Error rate of ${rpcId} (%)`,
    period: ALARM_WINDOW,
  });
  const alarm = new cloudwatch.Alarm(scope, 'ErrorRate', {
    alarmName: plan.errorRateAlarmName,
    alarmDescription: `${plan.errorRatePercent}% or more of the invocations of ${rpcId}'s worker failed (in windows of at least ${plan.minInvocations} invocations): read its logs for the error.`,
    metric: rate,
    threshold: plan.errorRatePercent,
    evaluationPeriods: ERROR_RATE_PERIODS,
    datapointsToAlarm: ERROR_RATE_DATAPOINTS,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  notifyAlarmTopic(alarm, refs);
  return alarm;
}

/**
 * Failed invocations of one rule (AWS/Events FailedInvocations by RuleName and EventBusName): EventBridge
 * could not deliver to a target queue (policy, encryption, deleted queue) and gave up on the event.
 * Undefined when the rule has no alarm planned.
 */
export function ruleFailedInvocationsAlarm(
  scope: Construct,
  rule: RulePlan,
  busName: string,
  refs: RouterRefs,
): cloudwatch.Alarm | undefined {
  if (rule.failedInvocationsAlarmName === undefined) return undefined;
  const alarm = new cloudwatch.Alarm(scope, 'FailedInvocations', {
    alarmName: rule.failedInvocationsAlarmName,
    alarmDescription: `EventBridge failed to deliver ${rule.eventName} events through rule ${rule.name} to ${rule.targets.map((t) => t.rpc).join(', ')}: check the queue policies and the targets' dead-letter queues.`,
    metric: new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'FailedInvocations',
      dimensionsMap: { RuleName: rule.name, EventBusName: busName },
      period: ALARM_WINDOW,
      statistic: cloudwatch.Stats.SUM,
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  notifyAlarmTopic(alarm, refs);
  return alarm;
}
