/** $disconnect: forgets the connection and every subscription it held. */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { removeConnection } from '../../shared/connections/store';
import type { WsEvent } from '../../shared/ws/handler';

export const handler = async (event: WsEvent): Promise<APIGatewayProxyResultV2> => {
  await removeConnection(event.requestContext.connectionId);
  return { statusCode: 200 };
};
