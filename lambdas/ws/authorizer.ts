/**
 * $connect REQUEST authorizer (identity source `route.request.querystring.token`):
 * verifies the token and hands the user to every route through the policy's context.
 * Anything wrong is 'Unauthorized', which API Gateway answers with 401.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { verifyToken } from '../../shared/auth/verifier';
import { logger } from '../../shared/logger';

/** Why, from the library's message (claims and key ids at most: it never quotes the token), bounded. */
function refusalReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return (cause instanceof Error ? cause.message : String(cause)).slice(0, 200);
}

export const handler = async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  const token = event.queryStringParameters?.token;
  if (!token) {
    logger.info('connection refused', { reason: 'no token' });
    throw new Error('Unauthorized');
  }
  let principal;
  try {
    principal = await verifyToken(token);
  } catch (error) {
    logger.info('connection refused', { reason: refusalReason(error) });
    // API Gateway answers 401 to exactly this message.
    throw new Error('Unauthorized', { cause: error });
  }
  return {
    principalId: principal.userId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
    // Context values must be scalars: groups travel comma-joined.
    context: { user_id: principal.userId, groups: principal.groups.join(',') },
  };
};
