import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { config } from '../config';

/**
 * The @connections management API of the WebSocket stage. Fan-out sends it one command per
 * connection, so the client resolves each command's middleware stack once, not per call
 * (~100 µs of CPU per post, `npm run bench`, scenario 6): safe because nothing here adds
 * middleware to a command or passes per-call options.
 */
export const connectionsApi = new ApiGatewayManagementApiClient({ endpoint: config.CONNECTIONS_ENDPOINT, cacheMiddleware: true });
