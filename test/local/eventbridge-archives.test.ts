/**
 * Archives and replays as EventBridge answers them: the recorded answers in
 * test/conformance/eventbridge-replay-recorded.json replayed through an SDK v3 EventBridge client
 * against the local runtime (shapes, states, error codes, messages and statuses), and what a replay
 * sends: only the window, only to the FilterArns' rules, with `replay-name` in the envelope.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CancelReplayCommand,
  CreateArchiveCommand,
  DescribeArchiveCommand,
  DescribeReplayCommand,
  ListArchivesCommand,
  ListReplaysCommand,
  PutEventsCommand,
  StartReplayCommand,
  type StartReplayCommandInput,
} from '@aws-sdk/client-eventbridge';
import { replayedEvent } from '../../lib/local/services/eventbridge/archives.ts';
import type { BusEventRecord } from '../../lib/local/services/eventbridge/bus.ts';
import { ManualClock } from '../support/clock.ts';
import { eventually, type Harness, startHarness } from './helpers.ts';

interface Case {
  readonly test: string;
  readonly op: string;
  readonly when?: string;
  readonly recorded?: string;
  readonly output?: Record<string, unknown>;
  readonly error?: { readonly code: string; readonly message: string; readonly status: number };
}

const recorded = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'conformance', 'eventbridge-replay-recorded.json'), 'utf8'),
) as { cases: Case[] };

function find(op: string, which: (c: Case) => boolean = () => true): Case {
  const found = recorded.cases.find((c) => c.op === op && which(c));
  assert.ok(found, `recorded case for ${op}`);
  return found;
}

/** Recorder placeholders (`<replay-name>`, `datetime`, account 111111111111, partition) match any value. */
function sameAsRecorded(expected: unknown, actual: unknown, path = '$'): void {
  if (expected === 'datetime') {
    assert.ok(actual instanceof Date, `${path}: a timestamp, got ${String(actual)}`);
    return;
  }
  if (typeof expected === 'string') {
    assert.equal(typeof actual, 'string', `${path}: a string`);
    // The recorder wrote every replay's name as the bare text `replay-name`.
    if (expected === 'replay-name' && path.endsWith('.ReplayName')) return;
    const pattern = expected
      .replace(/111111111111/g, '<account>')
      .split(/<[a-z-]+(?::\d+)?>/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.+');
    assert.match(actual as string, new RegExp(`^${pattern}$`, 's'), path);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(
      Array.isArray(actual) && actual.length === expected.length,
      `${path}: ${expected.length} items`,
    );
    for (const [i, e] of expected.entries()) sameAsRecorded(e, (actual as unknown[])[i], `${path}[${i}]`);
    return;
  }
  if (expected && typeof expected === 'object') {
    const got = Object.fromEntries(
      Object.entries(actual as object).filter(([k, v]) => v !== undefined && k !== '$metadata'),
    );
    assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort(), `${path}: the recorded fields`);
    for (const [k, v] of Object.entries(expected)) sameAsRecorded(v, got[k], `${path}.${k}`);
    return;
  }
  assert.equal(actual, expected, path);
}

async function refusedAsRecorded(call: Promise<unknown>, expected: Case): Promise<void> {
  const error = await call.then(
    () => assert.fail(`${expected.op} should fail as ${expected.error?.code}`),
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
  );
  assert.ok(expected.error);
  assert.equal(error.name, expected.error.code);
  sameAsRecorded(expected.error.message, error.message);
  assert.equal(error.$metadata?.httpStatusCode, expected.error.status);
}

const BUS = 'test-dev-bus';
const RULE = 'test-dev-thing-happened-svc-1';

describe('EventBridge archives and replays as AWS answers', { timeout: 60_000 }, () => {
  let h: Harness;
  let busArn: string;
  let ruleArn: string;
  let archiveArn: string;
  const window = {
    EventStartTime: new Date(Date.now() - 60_000),
    EventEndTime: new Date(Date.now() + 60_000),
  };
  const replay = (name: string, extra: Partial<StartReplayCommandInput> = {}) =>
    h.events.send(
      new StartReplayCommand({
        ReplayName: name,
        Description: 'description of the replay',
        EventSourceArn: archiveArn,
        ...window,
        Destination: { Arn: busArn, FilterArns: [ruleArn] },
        ...extra,
      }),
    );
  const finished = (name: string) =>
    eventually(
      async () => {
        const { State } = await h.events.send(new DescribeReplayCommand({ ReplayName: name }));
        return State === 'COMPLETED' || State === 'CANCELLED' ? State : undefined;
      },
      10_000,
      `replay ${name} ended`,
    );

  before(async () => {
    h = await startHarness({ replayStartingMs: 1500 });
    busArn = `arn:aws:events:us-east-1:000000000000:event-bus/${BUS}`;
    ruleArn = `arn:aws:events:us-east-1:000000000000:rule/${BUS}/${RULE}`;
  });
  after(async () => {
    await h.close();
  });

  it('creates, describes and lists an archive; refuses a duplicate, an unknown bus or archive', async () => {
    const created = await h.events.send(
      new CreateArchiveCommand({
        ArchiveName: 'orders',
        EventSourceArn: busArn,
        Description: 'description of the archive',
        EventPattern: JSON.stringify({
          source: ['core.update-account-command'],
          'detail-type': ['core.update-account-command'],
          detail: { command: ['update-account'] },
        }),
        RetentionDays: 1,
      }),
    );
    sameAsRecorded(find('CreateArchive', (c) => !!c.output).output, created);
    archiveArn = created.ArchiveArn ?? '';
    const described = await h.events.send(new DescribeArchiveCommand({ ArchiveName: 'orders' }));
    sameAsRecorded(find('DescribeArchive', (c) => !!c.output).output, {
      ...described,
      EventPattern: JSON.parse(described.EventPattern ?? 'null'),
    });
    sameAsRecorded(
      find('ListArchives', (c) => !!c.output).output,
      await h.events.send(new ListArchivesCommand({ NamePrefix: 'orders' })),
    );
    await refusedAsRecorded(
      h.events.send(new CreateArchiveCommand({ ArchiveName: 'orders', EventSourceArn: busArn })),
      find('CreateArchive', (c) => c.error?.code === 'ResourceAlreadyExistsException'),
    );
    await refusedAsRecorded(
      h.events.send(new CreateArchiveCommand({ ArchiveName: 'x', EventSourceArn: `${busArn}-missing` })),
      find('CreateArchive', (c) => c.error?.code === 'ResourceNotFoundException'),
    );
    await refusedAsRecorded(
      h.events.send(new DescribeArchiveCommand({ ArchiveName: 'missing' })),
      find('DescribeArchive', (c) => !!c.error),
    );
    await refusedAsRecorded(
      h.events.send(new ListArchivesCommand({ EventSourceArn: `${busArn}-missing` })),
      find('ListArchives', (c) => !!c.error),
    );
  });

  it('replays the window to the filter rules, with replay-name; describes, lists and cancels as recorded', async () => {
    // Given an archived event that matches the archive's pattern and the fixture's rule
    const { FailedEntryCount } = await h.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: BUS,
            Source: 'core.update-account-command',
            DetailType: 'core.update-account-command',
            Detail: JSON.stringify({
              command: 'update-account',
              payload: { acc_id: '0a787ecb-4015', sf_id: 'baz' },
            }),
          },
        ],
      }),
    );
    assert.equal(FailedEntryCount, 0);
    const events = await h.events.send(new DescribeArchiveCommand({ ArchiveName: 'orders' }));
    assert.equal(events.EventCount, 1);

    const started = await replay('first');
    sameAsRecorded(find('StartReplay', (c) => !!c.output).output, started);
    assert.equal(await finished('first'), 'COMPLETED');
    sameAsRecorded(
      find('DescribeReplay', (c) => c.when === 'completed').output,
      await h.events.send(new DescribeReplayCommand({ ReplayName: 'first' })),
    );
    sameAsRecorded(
      find('ListReplays', (c) => !!c.output).output,
      await h.events.send(new ListReplaysCommand({ NamePrefix: 'first' })),
    );

    await replay('cancelled');
    sameAsRecorded(
      find('CancelReplay').output,
      await h.events.send(new CancelReplayCommand({ ReplayName: 'cancelled' })),
    );
    sameAsRecorded(
      find('DescribeReplay', (c) => c.when === 'cancelling').output,
      await h.events.send(new DescribeReplayCommand({ ReplayName: 'cancelled' })),
    );
    assert.equal(await finished('cancelled'), 'CANCELLED');
    await assert.rejects(
      h.events.send(new CancelReplayCommand({ ReplayName: 'cancelled' })),
      (e: Error) => e.name === 'IllegalStatusException',
    );
  });

  it('refuses replays as recorded: unknown replay or archive, reused name, bad window, other bus, too many', async () => {
    const byRecord = (name: string) =>
      find(recorded.cases.find((c) => c.recorded === name)?.op ?? '', (c) => c.recorded === name);
    await refusedAsRecorded(
      h.events.send(new DescribeReplayCommand({ ReplayName: 'missing' })),
      byRecord('describe-replay-unknown-replay-error'),
    );
    await refusedAsRecorded(
      replay('x', { EventSourceArn: archiveArn.replace('/orders', '/missing') }),
      byRecord('start-replay-unknown-archive-error'),
    );
    await refusedAsRecorded(replay('first'), byRecord('start-replay-duplicate-error'));
    await refusedAsRecorded(
      replay('x', { EventStartTime: window.EventEndTime, EventEndTime: window.EventEndTime }),
      byRecord('start-replay-invalid-end-time-error'),
    );
    await refusedAsRecorded(
      replay('x', { Destination: { Arn: `${busArn}-missing` } }),
      byRecord('start-replay-unknown-event-bus-error'),
    );
    await refusedAsRecorded(
      replay('x', { Destination: { Arn: busArn.replace(`/${BUS}`, '/default') } }),
      byRecord('start-replay-wrong-event-bus-error'),
    );
    // At most 10 replays starting, running or cancelling at once (a runtime whose replays stay STARTING)
    const slow = await startHarness({ replayStartingMs: 600_000 });
    try {
      const { ArchiveArn = '' } = await slow.events.send(
        new CreateArchiveCommand({ ArchiveName: 'slow', EventSourceArn: busArn }),
      );
      const start = (name: string) =>
        slow.events.send(
          new StartReplayCommand({
            ReplayName: name,
            EventSourceArn: ArchiveArn,
            ...window,
            Destination: { Arn: busArn },
          }),
        );
      for (let i = 0; i < 10; i++) await start(`many-${i}`);
      await refusedAsRecorded(start('many-10'), byRecord('list-replays-with-limit'));
    } finally {
      await slow.close();
    }
  });

  it('keeps archived events and replays across a restart; a replay cut short is FAILED with the reason', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'er-archives-'));
    try {
      let k = await startHarness({ inMemory: false, stateDir, replayStartingMs: 60_000 });
      await k.events.send(new CreateArchiveCommand({ ArchiveName: 'kept', EventSourceArn: busArn }));
      await k.events.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: BUS, Source: 's', DetailType: 'd', Detail: '{"n":1}' }],
        }),
      );
      const { ArchiveArn = '' } = await k.events.send(new DescribeArchiveCommand({ ArchiveName: 'kept' }));
      await k.events.send(
        new StartReplayCommand({
          ReplayName: 'cut',
          EventSourceArn: ArchiveArn,
          ...window,
          Destination: { Arn: busArn },
        }),
      );
      await k.close();
      k = await startHarness({ inMemory: false, stateDir });
      try {
        const archive = await k.events.send(new DescribeArchiveCommand({ ArchiveName: 'kept' }));
        assert.equal(archive.EventCount, 1);
        const cut = await k.events.send(new DescribeReplayCommand({ ReplayName: 'cut' }));
        assert.equal(cut.State, 'FAILED');
        assert.match(cut.StateReason ?? '', /stopped while the replay ran/);
      } finally {
        await k.close();
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('puts replay-name in the envelope where EventBridge puts it', () => {
    const body = find('replayed-message').output as Record<string, unknown>;
    const event = { ...body } as Record<string, unknown>;
    delete event['replay-name'];
    assert.deepEqual(Object.keys(replayedEvent(event as unknown as BusEventRecord, 'r')), Object.keys(body));
  });
});

describe('archives and replays on the runtime clock', { timeout: 30_000 }, () => {
  it('stamp creation and replay times from it, and wait out STARTING on it', async () => {
    const clock = new ManualClock(Date.parse('2026-11-20T10:00:00.000Z'));
    const h = await startHarness({ clock });
    try {
      const busArn = `arn:aws:events:us-east-1:000000000000:event-bus/${BUS}`;
      const { ArchiveArn } = await h.events.send(
        new CreateArchiveCommand({ ArchiveName: 'clocked', EventSourceArn: busArn }),
      );
      const archive = await h.events.send(new DescribeArchiveCommand({ ArchiveName: 'clocked' }));
      assert.equal(archive.CreationTime?.toISOString(), '2026-11-20T10:00:00.000Z');
      await clock.advance(5_000);
      await h.events.send(
        new StartReplayCommand({
          ReplayName: 'clocked-replay',
          EventSourceArn: ArchiveArn,
          EventStartTime: new Date('2026-11-20T09:00:00.000Z'),
          EventEndTime: new Date('2026-11-20T10:00:01.000Z'),
          Destination: { Arn: busArn },
        }),
      );
      const started = await h.events.send(new DescribeReplayCommand({ ReplayName: 'clocked-replay' }));
      assert.equal(started.ReplayStartTime?.toISOString(), '2026-11-20T10:00:05.000Z');
      // Real time passing does not end STARTING; the runtime's clock does.
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(started.State, 'STARTING');
      assert.equal(
        (await h.events.send(new DescribeReplayCommand({ ReplayName: 'clocked-replay' }))).State,
        'STARTING',
      );
      await clock.advance(250);
      await eventually(
        async () =>
          (await h.events.send(new DescribeReplayCommand({ ReplayName: 'clocked-replay' }))).State ===
          'COMPLETED'
            ? true
            : undefined,
        10_000,
        'the replay completed after the clock passed STARTING',
      );
    } finally {
      await h.close();
    }
  });
});
