/** $connect: records the connection under the user the authorizer verified. */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { putConnection } from '../../shared/connections/store';
import { principalFromWsEvent, type WsEvent } from '../../shared/ws/handler';

export const handler = async (event: WsEvent): Promise<APIGatewayProxyResultV2> => {
  const principal = principalFromWsEvent(event);
  if (!principal) return { statusCode: 401 };
  await putConnection(event.requestContext.connectionId, principal.userId);
  return { statusCode: 200 };
};
