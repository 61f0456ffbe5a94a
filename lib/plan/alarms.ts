/**
 * Alarm planning: the thresholds of each RPC's backlog and error-rate alarms, and where all alarms
 * notify. Pure; the constructs declare exactly what is planned here.
 */
import { CLOUDWATCH } from '../../common/aws-limits.ts';
import type { AppSettings, RpcSettings } from '../config/types.ts';
import { type NameContext, names } from '../naming.ts';
import type { AlarmsPlan, RpcAlarmsPlan } from './types.ts';

/**
 * Default backlog threshold, in visibility timeouts: a message that has waited this long has had time
 * for this many complete receive-and-run cycles (the default maxReceiveCount), so the queue is not
 * keeping up or the worker is not running.
 */
export const BACKLOG_VISIBILITY_MULTIPLE = 5;

/**
 * Seconds the oldest message may wait before the backlog alarm fires: the RPC's `alarmBacklogAge`, or
 * BACKLOG_VISIBILITY_MULTIPLE x the visibility timeout, kept within CloudWatch's range and below the
 * queue's retention (no message gets older than that, so a higher threshold would never fire).
 */
export function backlogAgeFor(settings: RpcSettings, visibilityTimeoutSeconds: number): number {
  if (settings.alarmBacklogAgeSeconds !== undefined) return settings.alarmBacklogAgeSeconds;
  const { min, max } = CLOUDWATCH.messageAgeSeconds;
  const planned = BACKLOG_VISIBILITY_MULTIPLE * visibilityTimeoutSeconds;
  const belowRetention = Math.floor(settings.queueRetentionSeconds / 2);
  return Math.max(min, Math.min(planned, belowRetention, max));
}

/** The backlog and error-rate alarms of one RPC. */
export function planRpcAlarms(
  ctx: NameContext,
  rpcId: string,
  settings: RpcSettings,
  visibilityTimeoutSeconds: number,
): RpcAlarmsPlan {
  return {
    backlogAlarmName: names.backlogAlarmName(ctx, rpcId),
    backlogAgeSeconds: backlogAgeFor(settings, visibilityTimeoutSeconds),
    errorRateAlarmName: names.errorRateAlarmName(ctx, rpcId),
    errorRatePercent: settings.alarmErrorRatePercent,
    minInvocations: settings.alarmMinInvocations,
  };
}

/** The topic every alarm notifies (`app.alarms.topic`, else the router's own) and OK notifications. */
export function planAlarms(app: AppSettings): AlarmsPlan {
  const topicArn = app.alarms?.topicArn;
  return { ...(topicArn === undefined ? {} : { topicArn }), okActions: app.alarms?.okActions ?? false };
}
