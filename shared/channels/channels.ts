/**
 * Broadcast channels. A channel's head item is also its stream's counter
 * (head_seq, head_change_seq, last_created_at), so the channel and its positions
 * are read in one request.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { isPlatformAdmin, type Principal } from '../auth/principal';
import { ddb } from '../clients/dynamodb';
import { nowIso } from '../clock';
import { config } from '../config';
import { AccessDeniedError, NotFoundError } from '../errors';

export interface Channel {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly admin_ids: string[];
  readonly head_seq: number;
  readonly head_change_seq: number;
  readonly created_at: string;
}

export interface ChannelHead extends Channel {
  readonly last_created_at?: string;
}

export class ChannelNotFoundError extends NotFoundError {
  override readonly name = 'ChannelNotFoundError';
  constructor(channelId: string) {
    super(`Channel ${channelId} does not exist.`);
  }
}

export function channelKey(channelId: string): { pk: string; sk: string } {
  return { pk: `channel#${channelId}`, sk: 'head' };
}

export interface CreateChannelInput {
  readonly name: string;
  readonly description?: string;
  readonly admin_ids?: readonly string[];
}

export async function createChannel(principal: Principal, input: CreateChannelInput): Promise<Channel> {
  if (!isPlatformAdmin(principal)) throw new AccessDeniedError('Only platform admins may create channels.');
  const channel: Channel = {
    id: ulid(),
    name: input.name,
    ...(input.description !== undefined ? { description: input.description } : {}),
    admin_ids: [...(input.admin_ids ?? [principal.userId])],
    head_seq: 0,
    head_change_seq: 0,
    created_at: nowIso(),
  };
  await ddb.send(
    new PutCommand({
      TableName: config.TABLE_CATALOG,
      Item: { ...channelKey(channel.id), type: 'channel', created_by: principal.userId, ...channel },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return channel;
}

/**
 * The head (strongly consistent: it feeds cursors), or ChannelNotFoundError. Only
 * createChannel writes `type`, so a head some counter update created alone never passes as a channel.
 */
export async function getChannelHead(channelId: string): Promise<ChannelHead> {
  const out = await ddb.send(new GetCommand({ TableName: config.TABLE_CATALOG, Key: channelKey(channelId), ConsistentRead: true }));
  if (!out.Item || out.Item.type !== 'channel') throw new ChannelNotFoundError(channelId);
  return out.Item as ChannelHead;
}

export function toChannel(head: ChannelHead): Channel {
  return {
    id: head.id,
    name: head.name,
    ...(head.description !== undefined ? { description: head.description } : {}),
    admin_ids: head.admin_ids,
    head_seq: head.head_seq,
    head_change_seq: head.head_change_seq,
    created_at: head.created_at,
  };
}

export function isChannelAdmin(principal: Principal, channel: Pick<Channel, 'admin_ids'>): boolean {
  return channel.admin_ids.includes(principal.userId);
}
