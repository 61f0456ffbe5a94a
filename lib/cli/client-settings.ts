/** The AWS SDK client settings shared by the commands that talk to AWS or the local runtime. */

/**
 * SDK client settings for the CLI: an explicit endpoint wins over AWS_ENDPOINT_URL. Against an endpoint
 * override with no credentials in the environment (the local runtime), placeholder credentials are used.
 */
export function clientSettings(endpoint: string | undefined): {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  const target = endpoint ?? process.env.AWS_ENDPOINT_URL;
  if (!target) return {};
  return {
    ...(endpoint ? { endpoint } : {}),
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE
      ? {}
      : { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  };
}
