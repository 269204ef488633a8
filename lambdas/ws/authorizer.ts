/**
 * $connect authorizer: verifies `?token=` and hands the user to every route through
 * the policy's context. Anything wrong is 'Unauthorized' (API Gateway answers 401).
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { verifyToken } from '../../shared/auth/verifier';
import { logger } from '../../shared/logger';

export const handler = async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  const token = event.queryStringParameters?.token;
  if (!token) throw new Error('Unauthorized');
  try {
    const principal = await verifyToken(token);
    return {
      principalId: principal.userId,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
      context: { user_id: principal.userId, groups: principal.groups.join(',') },
    };
  } catch (error) {
    logger.info('connection refused', { reason: (error as Error).message });
    // API Gateway maps exactly this message to 401.
    throw new Error('Unauthorized', { cause: error });
  }
};
