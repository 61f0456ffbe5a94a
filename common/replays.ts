/**
 * Replays, as the worker and the replay command both see them. EventBridge adds the field
 * `replay-name` to the envelope of every event it replays from an archive; the event itself is the
 * archived one, unchanged. The operator's
 * `event-router replay` writes, before it starts the replay, one ops record in the deliveries table:
 * partition `ops#replays`, sort key the replay name (never an RPC id: no `/`), with the RPCs it is for
 * and whether it reruns completed deliveries.
 *
 * - A replayed delivery runs through the normal dedup: COMPLETED and DEAD deliveries are acknowledged
 *   without running, others run.
 * - Only when the ops record of that replay exists, names this RPC and says `rerunCompleted`, the
 *   delivery is an operator re-run (`RerunId` = `replay:<name>`): it runs again whatever its state,
 *   once per replay (the claim stores the id). An event that merely carries a `replay-name` (a copy
 *   sent to the queue by hand, a replay started outside the tool) is never trusted as a re-run.
 * - Each replayed message's final outcome is counted on the ops record (one ADD), so the replay
 *   command reports how many ran and how many were skipped. Nothing is counted for a replay the tool
 *   did not start (the write requires the record).
 */
import type { RecordReport } from './outcome.ts';

/** Partition of the replay ops records in the deliveries table. */
export const REPLAY_PARTITION = 'ops#replays';

/** What the replay command records before it starts a replay. */
export interface ReplayOpsRecord {
  readonly eventId: typeof REPLAY_PARTITION;
  /** The replay name. */
  readonly rpc: string;
  readonly kind: 'replay';
  readonly rpcs: readonly string[];
  readonly rerunCompleted: boolean;
}

/** How a replayed message ended, as counted on the ops record (`<counter>#<rpc>` attributes). */
export type ReplayCounter = 'completed' | 'deadLettered' | 'skippedCompleted' | 'skippedDead';

/** The counter of a final outcome; undefined while the message goes back to the queue. */
export function replayCounter(report: RecordReport): ReplayCounter | undefined {
  if (report.requeued) return undefined;
  switch (report.outcome) {
    case 'completed':
      return 'completed';
    case 'dead-lettered':
      return 'deadLettered';
    case 'duplicate':
      return report.duplicateOf === 'dead-lettered' ? 'skippedDead' : 'skippedCompleted';
    default:
      return undefined;
  }
}

/** The RerunId a replay's re-run carries. */
export const replayRerunId = (replayName: string) => `replay:${replayName}`;
