/**
 * Who the operator is, for the audit trail: on AWS the caller's identity as STS reports it
 * (`GetCallerIdentity`: the ARN of the user or assumed role, which names the person behind an SSO
 * session), against the local runtime the OS user of this machine.
 *
 * The project has no STS client among its dependencies, so the one call is signed with the SDK's own
 * SigV4 signer and the credentials the SQS client resolved (the same identity that acts).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { userInfo } from 'node:os';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';

/** SHA-256 (and HMAC-SHA-256 with a secret) in the shape the signer takes. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** True for an endpoint on this machine (the local runtime). */
export function isLocalEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  try {
    const host = new URL(endpoint).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
  } catch {
    return false;
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** The operator's identity: `local:<os user>` locally, the caller ARN on AWS (`aws:<arn>`). */
export async function operatorIdentity(sqs: SQSClient, endpoint: string | undefined): Promise<string> {
  if (isLocalEndpoint(endpoint)) return `local:${osUser()}`;
  try {
    const credentials = await sqs.config.credentials();
    const region = await sqs.config.region();
    const hostname = `sts.${region}.amazonaws.com`;
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: Sha256 });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'https:',
      hostname,
      path: '/',
      headers: { host: hostname, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const response = await fetch(`https://${hostname}/`, {
      method: 'POST',
      headers: signed.headers,
      body,
    });
    const arn = /<Arn>([^<]+)<\/Arn>/.exec(await response.text())?.[1];
    if (arn) return `aws:${arn}`;
  } catch {
    // fall through: the audit still names the OS user
  }
  return `unverified:${osUser()}`;
}
