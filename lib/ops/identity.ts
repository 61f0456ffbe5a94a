/**
 * Who the operator is, for the audit trail: on AWS the caller's identity as STS reports it
 * (`GetCallerIdentity`: the ARN of the user or assumed role, which names the person behind an SSO
 * session), against the local runtime the OS user of this machine.
 *
 * The project has no STS client among its dependencies, so the one call is signed here (Signature
 * Version 4, a few lines of node:crypto) with the credentials the SQS client resolved: the same identity
 * that acts.
 */
import { createHash, createHmac } from 'node:crypto';
import { userInfo } from 'node:os';
import type { SQSClient } from '@aws-sdk/client-sqs';

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

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * The headers of a SigV4-signed `POST /` with a form body (AWS query protocol), as STS expects them.
 * `now` is the signing time.
 */
export function signedQueryHeaders(
  credentials: SigningCredentials,
  region: string,
  service: string,
  hostname: string,
  body: string,
  now = new Date(),
): Record<string, string> {
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    host: hostname,
    'x-amz-content-sha256': sha256(body),
    'x-amz-date': amzDate,
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    'POST',
    '/',
    '',
    ...names.map((n) => `${n}:${headers[n]}`),
    '',
    names.join(';'),
    sha256(body),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), service),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

/** The operator's identity: `local:<os user>` locally, `aws:<caller ARN>` on AWS, `unverified:<os user>` if STS did not answer. */
export async function operatorIdentity(sqs: SQSClient, endpoint: string | undefined): Promise<string> {
  if (isLocalEndpoint(endpoint)) return `local:${osUser()}`;
  try {
    const credentials = await sqs.config.credentials();
    const region = await sqs.config.region();
    const hostname = `sts.${region}.amazonaws.com`;
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const response = await fetch(`https://${hostname}/`, {
      method: 'POST',
      headers: signedQueryHeaders(credentials, region, 'sts', hostname, body),
      body,
      signal: AbortSignal.timeout(5000),
    });
    const arn = /<Arn>([^<]+)<\/Arn>/.exec(await response.text())?.[1];
    if (response.ok && arn) return `aws:${arn}`;
  } catch {
    // fall through: the audit still names the OS user, marked as unverified
  }
  return `unverified:${osUser()}`;
}
