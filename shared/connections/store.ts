/**
 * The connections table: who is connected, and which connection listens to which
 * stream (with the access decision it was granted). Fan-out reads `sub#<stream>`, so
 * delivery cost grows with a stream's online subscribers, never with all users.
 */
import { BatchWriteCommand, DeleteCommand, PutCommand, QueryCommand, TransactWriteCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../clients/dynamodb';
import { now, nowIso } from '../clock';
import { config } from '../config';
import { CONNECTIONS_BY_USER } from '../spec/tables';

/** API Gateway closes a WebSocket connection after 2 h; records outlive it a little so $disconnect can still find them. */
export const CONNECTION_TTL_SECONDS = 2 * 3600 + 15 * 60;
/** Presence is "online" while heartbeats keep coming; the record expires on its own. */
export const PRESENCE_TTL_SECONDS = 15 * 60;

export interface ConnectionRecord {
  readonly connection_id: string;
  readonly user_id: string;
  readonly connected_at: string;
  readonly expires_at: number;
}

export interface SubscriptionRecord {
  readonly stream: string;
  readonly connection_id: string;
  readonly user_id: string;
  readonly mode: 'FULL' | 'ARCHIVE_UNTIL';
  readonly windows?: readonly { readonly start?: string; readonly end?: string }[];
  readonly decision_expires_at: number;
  /** The subscriber's groups as its token gave them: a re-check judges the same principal (platform admins stay admins). */
  readonly groups?: readonly string[];
}

const table = () => config.TABLE_CONNECTIONS;

/** Every page of one Query on the connections table. */
async function* queryPages(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): AsyncIterable<Record<string, unknown>[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(new QueryCommand({ ...input, TableName: table(), ExclusiveStartKey: startKey }));
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

const connPk = (connectionId: string) => `conn#${connectionId}`;
const subPk = (stream: string) => `sub#${stream}`;
const expiresAt = () => Math.floor(now() / 1000) + CONNECTION_TTL_SECONDS;

export async function putConnection(connectionId: string, userId: string): Promise<void> {
  const item: ConnectionRecord & { pk: string; sk: string } = {
    pk: connPk(connectionId),
    sk: 'meta',
    connection_id: connectionId,
    user_id: userId,
    connected_at: nowIso(),
    expires_at: expiresAt(),
  };
  await ddb.send(new PutCommand({ TableName: table(), Item: item }));
}

/** Removes the connection and every subscription it holds (both sides of each). */
export async function removeConnection(connectionId: string): Promise<void> {
  const keys: { pk: string; sk: string }[] = [];
  const pages = queryPages({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': connPk(connectionId) },
    ProjectionExpression: 'pk, sk, #stream',
    ExpressionAttributeNames: { '#stream': 'stream' },
  });
  for await (const items of pages) {
    for (const item of items) {
      keys.push({ pk: item.pk as string, sk: item.sk as string });
      if (typeof item.stream === 'string') keys.push({ pk: subPk(item.stream), sk: connectionId });
    }
  }
  // The meta item may already be gone (TTL); delete it anyway so nothing is left behind.
  if (!keys.some((k) => k.sk === 'meta')) keys.push({ pk: connPk(connectionId), sk: 'meta' });
  await batchDelete(keys);
}

const BATCH_WRITE_LIMIT = 25;
const BATCH_RETRIES = 6;

/** Deletes the keys 25 at a time, retrying what DynamoDB leaves unprocessed with backoff; throws if some still remain. */
async function batchDelete(keys: readonly { pk: string; sk: string }[]): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH_WRITE_LIMIT) {
    let pending: { DeleteRequest: { Key: Record<string, unknown> } }[] = keys
      .slice(i, i + BATCH_WRITE_LIMIT)
      .map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > BATCH_RETRIES) throw new Error(`${pending.length} connection items left undeleted after ${BATCH_RETRIES} retries`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [table()]: pending } }));
      pending = (out.UnprocessedItems?.[table()] ?? []) as typeof pending;
    }
  }
}

/** Presence heartbeat: the user was seen now, through this connection. */
export async function touchConnection(connectionId: string, userId: string): Promise<void> {
  await ddb.send(
    new PutCommand({
      TableName: table(),
      Item: {
        pk: `presence#${userId}`,
        sk: 'presence',
        last_seen_at: nowIso(),
        last_connection_id: connectionId,
        expires_at: Math.floor(now() / 1000) + PRESENCE_TTL_SECONDS,
      },
    }),
  );
}

/**
 * Stores both sides of a subscription in one transaction. The `sub#` side carries no
 * `connection_id` attribute (its sort key is the id) so the sparse by_user index holds
 * connection items only.
 */
export async function putSubscription(sub: SubscriptionRecord): Promise<void> {
  const expires = expiresAt();
  await ddb.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: table(),
            Item: {
              pk: subPk(sub.stream),
              sk: sub.connection_id,
              user_id: sub.user_id,
              mode: sub.mode,
              ...(sub.windows ? { windows: sub.windows } : {}),
              ...(sub.groups?.length ? { groups: sub.groups } : {}),
              decision_expires_at: sub.decision_expires_at,
              expires_at: expires,
            },
          },
        },
        { Put: { TableName: table(), Item: { pk: connPk(sub.connection_id), sk: `sub#${sub.stream}`, stream: sub.stream, expires_at: expires } } },
      ],
    }),
  );
}

export async function removeSubscription(stream: string, connectionId: string): Promise<void> {
  await Promise.all([
    ddb.send(new DeleteCommand({ TableName: table(), Key: { pk: subPk(stream), sk: connectionId } })),
    ddb.send(new DeleteCommand({ TableName: table(), Key: { pk: connPk(connectionId), sk: `sub#${stream}` } })),
  ]);
}

/** The stream's subscriptions, a Query page at a time. */
export async function* subscribersOf(stream: string): AsyncIterable<SubscriptionRecord[]> {
  for await (const items of queryPages({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': subPk(stream) } })) {
    if (items.length > 0) {
      yield items.map((item) => ({
        stream,
        connection_id: item.sk as string,
        user_id: item.user_id as string,
        mode: item.mode as SubscriptionRecord['mode'],
        ...(item.windows ? { windows: item.windows as SubscriptionRecord['windows'] } : {}),
        ...(item.groups ? { groups: item.groups as string[] } : {}),
        decision_expires_at: item.decision_expires_at as number,
      }));
    }
  }
}

/** Every open connection of a user (personal events), from the sparse by_user index. */
export async function connectionsOfUser(userId: string): Promise<string[]> {
  const ids: string[] = [];
  const pages = queryPages({ IndexName: CONNECTIONS_BY_USER, KeyConditionExpression: 'user_id = :u', ExpressionAttributeValues: { ':u': userId } });
  for await (const items of pages) for (const item of items) ids.push(item.connection_id as string);
  return ids;
}
