/**
 * The journal is honest about the disk: a failed write or fdatasync rejects every durable append of
 * its group, so PutEvents answers a failed entry and SendMessage an error instead of success; close()
 * waits for an fdatasync in flight. Disk failures are injected through the journal's file operations
 * (nothing real can fail a disk on demand here).
 */
import assert from 'node:assert/strict';
import { fdatasync, mkdtempSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EventBuses } from '../../lib/local/services/eventbridge/bus.ts';
import { DEFAULT_QUEUE_CONFIG } from '../../lib/local/services/sqs/queue.ts';
import { QueueStore } from '../../lib/local/services/sqs/store.ts';
import { Journal, type JournalIo, JournalWriteError } from '../../lib/local/store/journal.ts';

const dirs: string[] = [];
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'er-journal-errors-'));
  dirs.push(dir);
  return dir;
}

/** The real file operations, with switches that make the next calls fail as a full disk would. */
function faultyIo() {
  const faults = {
    write: false,
    sync: false,
    syncCalls: 0,
    pendingSync: undefined as (() => void) | undefined,
  };
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const io: JournalIo = {
    writeSync: (fd, data) => {
      if (faults.write) throw enospc();
      writeSync(fd, data);
    },
    fdatasync: (fd, callback) => {
      faults.syncCalls += 1;
      if (faults.sync) return setImmediate(() => callback(enospc()));
      fdatasync(fd, callback);
    },
  };
  return { io, faults };
}

describe('journal disk errors', () => {
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('rejects the durable appends of a failed write, and succeeds again once the disk does', async () => {
    const { io, faults } = faultyIo();
    const { journal } = Journal.open(join(stateDir(), 'j'), io);
    // Given a disk that refuses writes
    faults.write = true;
    // When two records are appended durably in one group
    const results = await Promise.allSettled([
      journal.appendDurable({ n: 1 }),
      journal.appendDurable({ n: 2 }),
    ]);
    // Then both are refused with the path and the reason
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof JournalWriteError);
      assert.match(r.reason.message, /Could not write the local state journal .*\/j: ENOSPC/);
    }
    // And once the disk recovers, the next append is durable
    faults.write = false;
    await journal.appendDurable({ n: 3 });
    journal.close();
    assert.deepEqual(readFileSync(journal.path, 'utf8'), '{"n":3}\n');
  });

  it('rejects the durable appends of a failed fdatasync', async () => {
    const { io, faults } = faultyIo();
    const { journal } = Journal.open(join(stateDir(), 'j'), io);
    faults.sync = true;
    await assert.rejects(journal.appendDurable({ n: 1 }), JournalWriteError);
    journal.close();
  });

  it('keeps the file open for an fdatasync in flight when closed, and resolves its waiters', async () => {
    // Given an fdatasync that has not finished yet
    let release: (() => void) | undefined;
    const io: JournalIo = {
      writeSync: (fd, data) => {
        writeSync(fd, data);
      },
      fdatasync: (fd, callback) => {
        release = () => fdatasync(fd, callback);
      },
    };
    const { journal } = Journal.open(join(stateDir(), 'j'), io);
    const first = journal.appendDurable({ n: 1 });
    await new Promise((r) => setImmediate(r));
    assert.ok(release, 'the flush started an fdatasync');
    // When the journal is closed meanwhile, with another record pending
    const second = journal.appendDurable({ n: 2 });
    journal.close();
    // Then the pending record is written by close, and the fdatasync in flight still completes on its file
    await second;
    release();
    await first;
    assert.equal(readFileSync(journal.path, 'utf8'), '{"n":1}\n{"n":2}\n');
    // And a durable append after close is refused rather than silently dropped
    await assert.rejects(journal.appendDurable({ n: 3 }), /the journal is closed/);
  });

  it('makes PutEvents answer a failed entry, not success, when its target copy cannot be stored', async () => {
    const { io, faults } = faultyIo();
    const store = new QueueStore({
      stateDir: stateDir(),
      region: 'us-east-1',
      account: '000000000000',
      baseUrl: () => 'http://local',
      journalIo: io,
    });
    store.define({ ...DEFAULT_QUEUE_CONFIG, name: 'target' });
    const buses = new EventBuses(store, 'us-east-1', '000000000000');
    buses.configure(
      ['b'],
      [
        {
          name: 'r',
          busName: 'b',
          pattern: { source: ['s'] },
          enabled: true,
          targets: [
            {
              id: 't',
              arn: 'arn:aws:sqs:us-east-1:000000000000:target',
              retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
            },
          ],
        },
      ],
    );
    const entry = { EventBusName: 'b', Source: 's', DetailType: 'd', Detail: '{"a":1}' };
    try {
      // Given a healthy disk, an entry is accepted
      const ok = await buses.putEvents({ Entries: [entry] });
      assert.equal(ok.FailedEntryCount, 0);
      // When the disk fails
      faults.sync = true;
      const failed = await buses.putEvents({ Entries: [entry, { ...entry, Source: 'unmatched' }] });
      // Then the routed entry fails with the reason, and the entry that reached no target is still accepted
      assert.equal(failed.FailedEntryCount, 1);
      assert.equal(failed.Entries[0]?.ErrorCode, 'InternalFailure');
      assert.match(failed.Entries[0]?.ErrorMessage ?? '', /Could not write the local state journal.*ENOSPC/);
      assert.ok(failed.Entries[1]?.EventId);
      // And SendMessage's durable promise rejects too, for the SQS API to answer an error
      await assert.rejects(
        store.get('target')?.send({ body: 'x' }).durable ?? Promise.resolve(),
        JournalWriteError,
      );
    } finally {
      buses.close();
      store.close();
    }
  });
});
