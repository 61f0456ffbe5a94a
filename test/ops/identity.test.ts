/** The operator's identity: the OS user against the local runtime, and the STS call's signature on AWS. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import { isLocalEndpoint, operatorIdentity, signedQueryHeaders } from '../../lib/ops/identity.ts';

/** node:crypto SHA-256 in the shape the SDK's signer takes (the reference this test compares with). */
type Bytes = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (data: Bytes) =>
  typeof data === 'string'
    ? Buffer.from(data)
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

class Sha256 {
  private readonly chunks: Buffer[] = [];
  constructor(private readonly secret?: Bytes) {}
  update(data: Bytes): void {
    this.chunks.push(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    const { createHmac } = await import('node:crypto');
    const body = Buffer.concat(this.chunks);
    return new Uint8Array(
      this.secret === undefined
        ? createHash('sha256').update(body).digest()
        : createHmac('sha256', toBuffer(this.secret)).update(body).digest(),
    );
  }
}

describe('operator identity', () => {
  it('is the OS user against the local runtime', async () => {
    assert.ok(isLocalEndpoint('http://127.0.0.1:4010'));
    assert.ok(!isLocalEndpoint('https://sqs.eu-west-1.amazonaws.com'));
    const sqs = new SQSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    assert.match(await operatorIdentity(sqs, 'http://127.0.0.1:4010'), /^local:.+/);
    sqs.destroy();
  });

  it("signs GetCallerIdentity exactly as the AWS SDK's SigV4 signer does", async () => {
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      sessionToken: 'token-1',
    };
    const now = new Date('2026-11-25T03:36:12.000Z');
    const hostname = 'sts.eu-west-1.amazonaws.com';
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const ours = signedQueryHeaders(credentials, 'eu-west-1', 'sts', hostname, body, now);
    const reference = await new SignatureV4({
      credentials,
      region: 'eu-west-1',
      service: 'sts',
      sha256: Sha256,
    }).sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname,
        path: '/',
        headers: { host: hostname, 'content-type': ours['content-type'] as string },
        body,
      },
      { signingDate: now },
    );
    assert.equal(ours.authorization, reference.headers.authorization);
  });
});
