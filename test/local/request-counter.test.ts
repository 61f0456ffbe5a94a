/** The opt-in request counter the cost benchmark checks the cost model against. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { RequestCounter } from '../../lib/local/runtime/request-counter.ts';
import type { RouteLog } from '../../lib/local/services/eventbridge/bus.ts';

describe('RequestCounter', () => {
  it('counts the requests a server serves by X-Amz-Target', async () => {
    // Given a counter attached to a server
    const counter = new RequestCounter();
    const server = createServer((_req, res) => res.end('{}'));
    counter.attach(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      // When two UpdateItem, one PutEvents and one plain request arrive
      for (const target of [
        'DynamoDB_20120810.UpdateItem',
        'DynamoDB_20120810.UpdateItem',
        'AWSEvents.PutEvents',
      ])
        await fetch(url, { method: 'POST', headers: { 'x-amz-target': target }, body: '{}' });
      await fetch(url);
      // Then each target is counted, the plain request is not
      assert.equal(counter.count('DynamoDB_20120810.UpdateItem'), 2);
      assert.equal(counter.count('AWSEvents.PutEvents'), 1);
      assert.deepEqual(counter.snapshot().requests, {
        'DynamoDB_20120810.UpdateItem': 2,
        'AWSEvents.PutEvents': 1,
      });
    } finally {
      server.close();
    }
  });

  it('counts rule deliveries, invocations by request id and log bytes from runtime events', () => {
    const counter = new RequestCounter();
    const route = (outcome: RouteLog['outcome']) => ({ outcome }) as RouteLog;
    counter.events.route(route('delivered'));
    counter.events.route(route('retrying'));
    counter.events.route(route('delivered'));
    const line = (id: string) =>
      `{"level":"INFO","function_request_id":"${id}","message":"Delivery completed"}`;
    counter.events.functionOutput('fn', 'stdout', line('a'));
    counter.events.functionOutput('fn', 'stdout', line('a'));
    counter.events.functionOutput('fn', 'stdout', line('b'));
    counter.events.functionOutput('fn', 'stderr', 'a plain line');
    assert.equal(counter.ruleDeliveries, 2);
    assert.equal(counter.invocations('fn'), 2);
    const bytes = 3 * (line('a').length + 1) + 'a plain line'.length + 1;
    assert.deepEqual(counter.snapshot().logBytes, { fn: bytes });
    assert.deepEqual(counter.snapshot().invocations, { fn: 2 });
  });
});
