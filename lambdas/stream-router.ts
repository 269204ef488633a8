/**
 * The entries table's stream (NEW_IMAGE) is the outbox: one record per committed
 * change. Each becomes an ids-only delta for the stream's live subscribers, queued for
 * fan-out, and one EventBridge event. A record that fails is retried alone.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DeliveryRouter, dispatchChanges, type RoutedChange } from '../shared/delivery/router';
import { logger } from '../shared/logger';
import type { EntryItem } from '../shared/streams/entry';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

/** The entry a record carries; undefined for records that are not a change (REMOVE). */
export function entryOfRecord(record: DynamoDBRecord): EntryItem | undefined {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return undefined;
  const image = record.dynamodb?.NewImage;
  if (!image) throw new Error('stream record without NewImage');
  const entry = unmarshall(image as Record<string, AttributeValue>) as EntryItem;
  if (typeof entry.stream !== 'string' || typeof entry.seq !== 'number' || typeof entry.change_seq !== 'number') {
    throw new Error('stream record is not an entry');
  }
  return entry;
}

export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  logger.addContext(context);
  const router = new DeliveryRouter();
  const routed: RoutedChange[] = [];
  const { batchItemFailures } = await processPartialResponse(
    event,
    async (record: DynamoDBRecord) => {
      const entry = entryOfRecord(record);
      if (!entry) return;
      const recordId = record.dynamodb?.SequenceNumber;
      if (!recordId) throw new Error('stream record without SequenceNumber');
      routed.push({ recordId, entry, delivery: await router.route(entry) });
    },
    processor,
    { context, throwOnFullBatchFailure: false },
  );
  const undispatched = await dispatchChanges(routed);
  if (undispatched.size > 0) logger.warn('changes not dispatched; retrying', { records: [...undispatched] });
  return { batchItemFailures: [...batchItemFailures, ...[...undispatched].map((itemIdentifier) => ({ itemIdentifier }))] };
};
