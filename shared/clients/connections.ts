import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { config } from '../config';

/** The @connections management API of the WebSocket stage. */
export const connectionsApi = new ApiGatewayManagementApiClient({ endpoint: config.CONNECTIONS_ENDPOINT });
