/**
 * The default access provider's own records: each user's subscription periods on a
 * channel, and each channel's backfill policy, in the entitlements table.
 */
import { BatchGetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../clients/dynamodb';
import { config } from '../config';
import { ConflictError } from '../errors';
import type { Period } from './windows';

const periodsKey = (userId: string, channelId: string) => ({ pk: `channel#${channelId}#user#${userId}`, sk: 'periods' });
const policyKey = (channelId: string) => ({ pk: `channel#${channelId}`, sk: 'policy' });

export interface ChannelEntitlement {
  readonly periods: Period[];
  readonly backfillDays: number;
}

/** Both records in one request. */
export async function entitlementOf(userId: string, channelId: string): Promise<ChannelEntitlement> {
  const table = config.TABLE_ENTITLEMENTS;
  const out = await ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [periodsKey(userId, channelId), policyKey(channelId)], ConsistentRead: true } } }));
  const items = out.Responses?.[table] ?? [];
  const periods = items.find((i) => i.sk === 'periods')?.periods as Period[] | undefined;
  const backfill = items.find((i) => i.sk === 'policy')?.backfill_days as number | undefined;
  return { periods: periods ?? [], backfillDays: backfill ?? 0 };
}

export async function recordSubscription(userId: string, channelId: string, period: Period): Promise<void> {
  await ddb.send(
    new UpdateCommand({
      TableName: config.TABLE_ENTITLEMENTS,
      Key: periodsKey(userId, channelId),
      UpdateExpression: 'SET periods = list_append(if_not_exists(periods, :empty), :p)',
      ExpressionAttributeValues: { ':empty': [], ':p': [period] },
    }),
  );
}

export class NoOpenPeriodError extends ConflictError {
  override readonly name = 'NoOpenPeriodError';
}

/** Closes the open period (the one without an end). */
export async function endSubscription(userId: string, channelId: string, end: string): Promise<void> {
  const { periods } = await entitlementOf(userId, channelId);
  const index = periods.findIndex((p) => p.end === undefined);
  if (index < 0) throw new NoOpenPeriodError(`user ${userId} has no open subscription on channel ${channelId}`);
  await ddb.send(
    new UpdateCommand({
      TableName: config.TABLE_ENTITLEMENTS,
      Key: periodsKey(userId, channelId),
      UpdateExpression: `SET periods[${index}].#end = :end`,
      ConditionExpression: `attribute_not_exists(periods[${index}].#end)`,
      ExpressionAttributeNames: { '#end': 'end' },
      ExpressionAttributeValues: { ':end': end },
    }),
  );
}

export async function setBackfillPolicy(channelId: string, backfillDays: number): Promise<void> {
  await ddb.send(new PutCommand({ TableName: config.TABLE_ENTITLEMENTS, Item: { ...policyKey(channelId), backfill_days: backfillDays } }));
}
