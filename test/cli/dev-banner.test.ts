/**
 * The start banner of `event-router dev`: the publish API curl comes first, then PutEvents on the bus;
 * restored in-flight messages are announced; the resource types it does not emulate are counted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { type BannerInfo, formatBanner } from '../../lib/cli/dev-banner.ts';

const plain = (text: string) => stripVTControlCharacters(text);

const base: BannerInfo = {
  url: 'http://127.0.0.1:4010',
  region: 'us-east-1',
  dashboard: true,
  stateDir: '/tmp/app/.event-router',
  buses: ['shop-dev-bus'],
  rules: 3,
  queues: 4,
  dlqs: 2,
  functions: 3,
  polled: 2,
  tables: ['shop-dev-deliveries'],
  apis: [{ url: 'http://127.0.0.1:4010/api', routes: ['POST /events', 'GET /events/{eventId}'] }],
  ignored: ['AWS::IAM::Role', 'AWS::KMS::Key'],
  problems: [],
  example: {
    busName: 'shop-dev-bus',
    eventName: 'order.placed',
    detail: JSON.stringify({ metadata: { eventId: 'example-0001' }, payload: { orderId: "o'1" } }),
    payload: { orderId: "o'1" },
    publisher: 'Checkout',
    source: 'event-router.shop.checkout',
  },
};

describe('dev banner', () => {
  it('puts the publish API curl first, then the exports, the CLI, the PutEvents curl and the aws CLI', () => {
    const text = plain(formatBanner(base));
    const order = [
      "curl -s -X POST http://127.0.0.1:4010/api/events -H 'Content-Type: application/json'",
      'then follow it: curl -s http://127.0.0.1:4010/api/events/<eventId>',
      'export AWS_ENDPOINT_URL=http://127.0.0.1:4010 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1',
      'npx event-router publish order.placed',
      "curl -s http://127.0.0.1:4010/ -H 'X-Amz-Target: AWSEvents.PutEvents'",
      'aws events put-events --entries',
    ].map((needle) => {
      const at = text.indexOf(needle);
      assert.notEqual(at, -1, `banner lacks: ${needle}\n${text}`);
      return at;
    });
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
    // single quotes in the payload survive the shell quoting
    assert.match(text, /"orderId":"o'\\''1"/);
  });

  it('without a publish API, offers PutEvents and the exports', () => {
    const text = plain(formatBanner({ ...base, apis: [] }));
    assert.doesNotMatch(text, /-X POST/);
    assert.match(text, /Publish an example order\.placed event with any AWS SDK v3 client/);
    assert.match(text, /AWSEvents\.PutEvents/);
  });

  it('without an example event, still prints the exports', () => {
    const text = plain(formatBanner({ ...base, example: undefined }));
    assert.doesNotMatch(text, /put-events|npx event-router publish/);
    assert.match(text, /Point any AWS SDK v3 client, the AWS CLI or this CLI at it:/);
    assert.match(
      text,
      /\n {2}export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:4010 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local\n/,
    );
  });

  it('counts the resource types it does not emulate, and lists them with --verbose', () => {
    assert.match(plain(formatBanner(base)), /not emulated: 2 resource types .*--verbose lists them/);
    assert.doesNotMatch(plain(formatBanner(base)), /AWS::KMS::Key/);
    assert.match(plain(formatBanner({ ...base, verbose: true })), /AWS::IAM::Role, AWS::KMS::Key/);
  });

  it('says how many messages were in flight when it last stopped and when they come back', () => {
    const text = plain(
      formatBanner({
        ...base,
        recovered: { messages: 31, firstVisibleAt: Date.parse('2026-11-25T11:13:05.400Z') },
      }),
    );
    assert.match(
      text,
      /recovered {3}31 message\(s\) in flight when it last stopped: .*the first at 11:13:05 UTC/,
    );
    assert.doesNotMatch(
      plain(formatBanner({ ...base, recovered: { messages: 0, firstVisibleAt: undefined } })),
      /recovered/,
    );
  });

  it('says state is lost on exit with --in-memory', () => {
    assert.match(
      plain(formatBanner({ ...base, stateDir: undefined })),
      /state {7}in memory \(lost on exit\)/,
    );
  });
});
