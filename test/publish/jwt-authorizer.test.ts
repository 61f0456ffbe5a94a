import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { jwksResolver } from '../../functions/publish/jwt.ts';
import { apiWideArn, createAuthorizer } from '../../functions/publish/jwt-authorizer.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/POST/events';

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function token(
  claims: Record<string, unknown>,
  options: { key?: KeyObject; alg?: string; kid?: string; header?: Record<string, unknown> } = {},
): string {
  const alg = options.alg ?? 'RS256';
  const head = `${b64({ alg, kid: options.kid ?? 'rsa-1', typ: 'JWT', ...options.header })}.${b64(claims)}`;
  const signature = sign('sha256', Buffer.from(head), {
    key: options.key ?? rsa.privateKey,
    ...(alg.startsWith('ES') ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  });
  return `${head}.${signature.toString('base64url')}`;
}

let issuer = '';
let jwksRequests = 0;
let keys: Record<string, unknown>[] = [];
const server = createServer((request, response) => {
  response.setHeader('content-type', 'application/json');
  if (request.url === '/.well-known/openid-configuration')
    response.end(JSON.stringify({ jwks_uri: `${issuer}/jwks` }));
  else if (request.url === '/jwks') {
    jwksRequests++;
    response.end(JSON.stringify({ keys }));
  } else {
    response.statusCode = 404;
    response.end('{}');
  }
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  keys = [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig' }];
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function authorizer() {
  return createAuthorizer({ issuer, audience: ['publish-api'] }, jwksResolver(issuer), { warn() {} });
}

function event(authorizationToken: string): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', methodArn: METHOD_ARN, authorizationToken };
}

const now = () => Math.floor(Date.now() / 1000);
const good = () => ({ iss: issuer, aud: 'publish-api', sub: 'user-1', exp: now() + 300 });

describe('JWT authorizer', () => {
  it('allows the whole stage for a valid token, with the subject as principal', async () => {
    const result = await authorizer()(event(`Bearer ${token(good())}`));
    assert.equal(result.principalId, 'user-1');
    assert.deepEqual(result.context, { sub: 'user-1' });
    assert.deepEqual(result.policyDocument.Statement, [
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/*/*',
      },
    ]);
  });

  it('accepts an audience list that contains an accepted audience', async () => {
    const result = await authorizer()(event(`Bearer ${token({ ...good(), aud: ['other', 'publish-api'] })}`));
    assert.equal(result.principalId, 'user-1');
  });

  const refused: [string, () => string][] = [
    ['an expired token', () => `Bearer ${token({ ...good(), exp: now() - 120 })}`],
    ['a token not valid yet', () => `Bearer ${token({ ...good(), nbf: now() + 600 })}`],
    ['another audience', () => `Bearer ${token({ ...good(), aud: 'billing' })}`],
    ['another issuer', () => `Bearer ${token({ ...good(), iss: 'https://evil.example.com' })}`],
    ['a signature by another key', () => `Bearer ${token(good(), { key: stranger.privateKey })}`],
    ['alg none', () => `Bearer ${b64({ alg: 'none' })}.${b64(good())}.`],
    ['a header without Bearer', () => token(good())],
    ['garbage', () => 'Bearer not.a.jwt'],
    ['a signature with trailing padding', () => `Bearer ${token(good())}==`],
    ['a signature with trailing junk', () => `Bearer ${token(good())}!!`],
    [
      'a header part with padding',
      () => {
        const [h = '', p = '', sig = ''] = token(good()).split('.');
        return `Bearer ${h}=.${p}.${sig}`;
      },
    ],
    [
      'a signature with non-zero unused bits (non-canonical)',
      () => {
        const t = token(good());
        const last = t.at(-1) ?? 'A';
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        // A 256-byte RSA signature ends in a 4-bit group: the next character differs only in unused bits.
        return `Bearer ${t.slice(0, -1)}${alphabet[(alphabet.indexOf(last) + 1) % 64]}`;
      },
    ],
    ['an unknown crit extension', () => `Bearer ${token(good(), { header: { crit: ['exp'], exp: 1 } })}`],
    ['an iat in the future', () => `Bearer ${token({ ...good(), iat: now() + 3600 })}`],
    ['a non-numeric iat', () => `Bearer ${token({ ...good(), iat: 'yesterday' })}`],
    ['a non-numeric nbf', () => `Bearer ${token({ ...good(), nbf: 'soon' })}`],
  ];
  for (const [what, header] of refused)
    it(`refuses ${what} with Unauthorized`, async () => {
      await assert.rejects(authorizer()(event(header())), /^Error: Unauthorized$/);
    });

  it('verifies ES256 tokens and refetches the key set once for an unknown kid (rotation)', async () => {
    const auth = authorizer();
    await auth(event(`Bearer ${token(good())}`));
    const before = jwksRequests;
    keys = [...keys, { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig' }];
    const result = await auth(
      event(`Bearer ${token(good(), { key: ec.privateKey, alg: 'ES256', kid: 'ec-1' })}`),
    );
    assert.equal(result.principalId, 'user-1');
    assert.equal(jwksRequests, before + 1);
  });

  it('looks unknown kids up at most once a minute and remembers misses: 50 junk tokens, one refresh', async () => {
    const auth = authorizer();
    await auth(event(`Bearer ${token(good())}`));
    const before = jwksRequests;
    for (let i = 0; i < 50; i++)
      await assert.rejects(
        auth(event(`Bearer ${token(good(), { kid: `junk-${i}` })}`)),
        /^Error: Unauthorized$/,
      );
    assert.ok(jwksRequests - before <= 1, `${jwksRequests - before} key set fetches for 50 junk tokens`);
    // Tokens refused on their claims never reach the identity provider.
    const again = jwksRequests;
    for (let i = 0; i < 10; i++)
      await assert.rejects(
        auth(event(`Bearer ${token({ ...good(), exp: now() - 600 }, { kid: `old-${i}` })}`)),
      );
    assert.equal(jwksRequests, again);
    const still = await auth(event(`Bearer ${token(good())}`));
    assert.equal(still.principalId, 'user-1', 'known keys still verify');
  });

  it('builds the stage-wide ARN from a method ARN', () => {
    assert.equal(
      apiWideArn('arn:aws:execute-api:us-east-1:1:api9/prod/GET/events/x'),
      'arn:aws:execute-api:us-east-1:1:api9/prod/*/*',
    );
  });
});
