/** JSON responses of the publish API. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { FieldProblem } from './request.ts';

/** A JSON response. */
export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * A 4xx that names what is wrong: `{message, errors: [{field, message, pointer?, suggestions?}]}`.
 * `message` sums up all errors in one sentence for people reading logs.
 */
export function problemResponse(
  statusCode: number,
  problems: readonly FieldProblem[],
): APIGatewayProxyResult {
  const first = problems[0];
  const summary = first ? `${first.field} ${first.message}` : 'The request is invalid.';
  const message =
    problems.length > 1
      ? `${summary} (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})`
      : summary;
  return json(statusCode, { message, errors: problems });
}
