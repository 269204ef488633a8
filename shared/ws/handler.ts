/**
 * The one wrapper every WebSocket route handler uses. Routes are integrated with
 * `returnResponse`, so the frame a handler returns reaches the caller without a
 * separate @connections call. A malformed frame or any error becomes an error frame;
 * the connection stays open.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import type { Principal } from '../auth/principal';
import { InvalidRequestError, UnauthenticatedError, toErrorResponse } from '../errors';
import { logger } from '../logger';
import { parseWith } from '../validation';

/** The authorizer's context as API Gateway passes it to route integrations. */
export interface WsAuthorizerContext {
  readonly principalId?: string;
  readonly user_id?: string;
  /** Comma-joined: authorizer context values must be scalars. */
  readonly groups?: string;
}

export type WsEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & { authorizer?: WsAuthorizerContext };
};

export type ServerFrame = { readonly type: string } & Record<string, unknown>;

export interface WsRequest<F> {
  readonly frame: F;
  readonly connectionId: string;
  readonly principal: Principal;
}

export function principalFromWsEvent(event: WsEvent): Principal | undefined {
  const auth = event.requestContext.authorizer;
  const userId = auth?.user_id ?? auth?.principalId;
  if (!userId) return undefined;
  return { userId, groups: (auth?.groups ?? '').split(',').filter(Boolean) };
}

export function frameResponse(frame: ServerFrame): APIGatewayProxyResultV2 {
  return { statusCode: 200, body: JSON.stringify(frame) };
}

/** The error frame for any thrown value; `stream` is echoed when the frame named one. */
export function errorFrame(error: unknown, stream?: string): ServerFrame {
  const { body } = toErrorResponse(error);
  return { type: 'error', ...(stream ? { stream } : {}), code: body.error.code, message: body.error.message };
}

function parseFrame(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? '');
  } catch (cause) {
    throw new InvalidRequestError('The frame is not valid JSON.', { cause });
  }
}

export function wsRoute<F extends z.ZodType>(
  schema: F,
  run: (request: WsRequest<z.infer<F>>, context: Context) => Promise<ServerFrame | undefined>,
) {
  return middy<WsEvent, APIGatewayProxyResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      let stream: string | undefined;
      try {
        const raw = parseFrame(event.body);
        if (raw && typeof raw === 'object' && typeof (raw as { stream?: unknown }).stream === 'string') {
          stream = (raw as { stream: string }).stream;
        }
        const principal = principalFromWsEvent(event);
        if (!principal) throw new UnauthenticatedError();
        const frame = parseWith(schema, raw, 'frame');
        const reply = await run({ frame, connectionId: event.requestContext.connectionId, principal }, context);
        return reply ? frameResponse(reply) : { statusCode: 200 };
      } catch (error) {
        const frame = errorFrame(error, stream);
        if (toErrorResponse(error).status >= 500) logger.error('frame failed', { error: error as Error });
        return frameResponse(frame);
      }
    });
}
