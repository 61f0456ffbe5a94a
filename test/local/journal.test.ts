/** The queue journal: state survives a reopen, a torn last line is ignored, compaction keeps the live state. */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_QUEUE_CONFIG } from '../../lib/local/services/sqs/queue.ts';
import { QueueStore } from '../../lib/local/services/sqs/store.ts';

const dirs: string[] = [];
function open(dir: string): QueueStore {
  const store = new QueueStore({
    stateDir: dir,
    region: 'us-east-1',
    account: '000000000000',
    baseUrl: () => 'http://local',
  });
  store.define({ ...DEFAULT_QUEUE_CONFIG, name: 'q' });
  return store;
}

describe('queue journal', () => {
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('restores messages, receive counts and visibility after a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-journal-'));
    dirs.push(dir);
    let store = open(dir);
    const q = store.get('q');
    assert.ok(q);
    const sends = Array.from({ length: 100 }, (_, i) => q.send({ body: `m${i}` }).durable);
    await Promise.all(sends);
    const received = q.receive(30, 600);
    for (const m of received.slice(0, 20)) q.deleteByReceipt(q.receiptHandle(m));
    const back = received[25];
    assert.ok(back);
    q.changeVisibility(q.receiptHandle(back), 0);
    await store.flushed();
    store.close();

    store = open(dir);
    const counts = store.get('q')?.counts();
    assert.deepEqual(counts, { visible: 71, notVisible: 9, delayed: 0 });
    const again = store.get('q')?.receive(100, 30) ?? [];
    const restored = again.find((m) => m.body === back.body);
    assert.equal(restored?.receiveCount, 2);
    store.close();
  });

  it('ignores a torn last line and compacts to the live state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-journal-'));
    dirs.push(dir);
    let store = open(dir);
    const q = store.get('q');
    assert.ok(q);
    for (let i = 0; i < 10; i++) await q.send({ body: `m${i}` }).durable;
    for (const m of q.receive(5, 30)) q.deleteByReceipt(q.receiptHandle(m));
    store.close();
    appendFileSync(join(dir, 'sqs.journal'), '{"t":"s","q":"q","id":"half');
    store = open(dir);
    assert.equal(store.get('q')?.messages.size, 5);
    // Opening compacted the journal (at its first flush): one record per live message.
    await store.flushed();
    const lines = readFileSync(join(dir, 'sqs.journal'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 5);
    store.close();
  });
});
