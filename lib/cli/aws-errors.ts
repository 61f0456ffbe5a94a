/**
 * Turns the AWS SDK's "could not even ask" errors (endpoint unreachable, no credentials, no region)
 * into one line that says where the CLI tried to go and what to do about it. Shared by the commands
 * that talk to AWS or the local runtime (`publish`, `status`, `dlq`).
 *
 * Any other error (an AWS answer such as QueueDoesNotExist) is left to the command to explain.
 */

/** Where `event-router dev` (`npm start`) listens by default. */
export const LOCAL_ENDPOINT = 'http://127.0.0.1:4010';

/** Where the CLI's clients send requests, and what chose it. */
export interface EndpointChoice {
  /** Undefined when neither `--endpoint` nor AWS_ENDPOINT_URL is set: the SDK talks to AWS. */
  readonly url?: string;
  readonly source: '--endpoint' | 'AWS_ENDPOINT_URL' | 'AWS';
}

/** An explicit `--endpoint` wins over AWS_ENDPOINT_URL (as in the commands' client settings). */
function endpointChoice(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): EndpointChoice {
  if (flag) return { url: flag, source: '--endpoint' };
  if (env.AWS_ENDPOINT_URL) return { url: env.AWS_ENDPOINT_URL, source: 'AWS_ENDPOINT_URL' };
  return { source: 'AWS' };
}

/** Why a request never got an AWS answer. */
export type AwsProblem =
  | { readonly kind: 'unreachable'; readonly reason: string }
  | { readonly kind: 'credentials' }
  | { readonly kind: 'region' };

/** Network error codes (Node's `error.code`, also found in the SDK's messages) and how to say them. */
const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'no route to host',
  EPIPE: 'connection closed',
};

interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * What kind of "could not ask" error `error` is, or undefined for anything else. Accepts an Error or
 * any `{name, message, code?}` (e.g. a publish outcome's errorCode and errorMessage).
 */
export function classifyAwsError(error: unknown): AwsProblem | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
    const e = current as ErrorLike;
    const name = text(e.name);
    const message = text(e.message);
    const code = text(e.code);
    const network =
      NETWORK_CODES[code] ?? Object.entries(NETWORK_CODES).find(([c]) => message.includes(c))?.[1];
    if (network) return { kind: 'unreachable', reason: network };
    if (/socket hang up/i.test(message)) return { kind: 'unreachable', reason: 'connection closed' };
    if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message))
      return { kind: 'credentials' };
    if (/region is missing/i.test(message)) return { kind: 'region' };
    current = e.cause;
  }
  return undefined;
}

function isLocal(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '0.0.0.0';
  } catch {
    return false;
  }
}

const POINT_AT_LOCAL = `for the local runtime, run \`npm start\` and export AWS_ENDPOINT_URL=${LOCAL_ENDPOINT} (or pass --endpoint ${LOCAL_ENDPOINT})`;

/**
 * One line explaining why the CLI got no answer, naming the endpoint it tried and what to do; undefined
 * when `error` is not such an error (the command reports it its own way).
 */
export function explainAwsError(
  error: unknown,
  endpointFlag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const problem = classifyAwsError(error);
  if (!problem) return undefined;
  const { url, source } = endpointChoice(endpointFlag, env);
  if (url) {
    switch (problem.kind) {
      case 'unreachable':
        return isLocal(url)
          ? `Cannot reach ${url} (${source}; ${problem.reason}): is \`npm start\` running? Start it, or point ${source} at the port it printed.`
          : `Cannot reach ${url} (${source}; ${problem.reason}): check the URL and the network, or use the local runtime at ${LOCAL_ENDPOINT} (\`npm start\`).`;
      case 'credentials':
        return `No AWS credentials could be loaded for ${url} (${source}): the local runtime accepts any, e.g. export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local (and unset AWS_PROFILE).`;
      case 'region':
        return `No AWS region found for ${url} (${source}): export AWS_REGION=us-east-1.`;
    }
  }
  switch (problem.kind) {
    case 'unreachable':
      return `Cannot reach AWS (${problem.reason}; AWS_ENDPOINT_URL is not set, so this talks to AWS itself): ${POINT_AT_LOCAL}; for AWS, check the network and AWS_REGION.`;
    case 'credentials':
      return `No AWS credentials found (AWS_ENDPOINT_URL is not set, so this talks to AWS itself): ${POINT_AT_LOCAL}; for AWS, set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.`;
    case 'region':
      return `No AWS region found (AWS_ENDPOINT_URL is not set, so this talks to AWS itself): ${POINT_AT_LOCAL}; for AWS, set AWS_REGION and credentials.`;
  }
}
