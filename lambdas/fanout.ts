/**
 * The fan-out queue's consumer: posts each queued frame to each of its connections
 * (bounded concurrency), removes connections that are gone, and reports only the
 * messages with other failures for redelivery (at least once; frames carry the
 * (stream, change_seq) dedup key).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { removeConnection } from '../shared/connections/store';
import { settleWithLimit } from '../shared/delivery/concurrency';
import { parseFanoutMessage } from '../shared/delivery/fanout-queue';
import { postMessage } from '../shared/delivery/post';
import { logger } from '../shared/logger';

const processor = new BatchProcessor(EventType.SQS);
const REMOVAL_CONCURRENCY = 16;

export class FanoutIncompleteError extends Error {
  override readonly name = 'FanoutIncompleteError';
}

async function deliver(record: SQSRecord): Promise<void> {
  const outcome = await postMessage(parseFanoutMessage(record.body));
  const removals = await settleWithLimit(outcome.gone, REMOVAL_CONCURRENCY, removeConnection);
  // A removal that failed is not worth redelivering frames for: the next post finds it gone again, and TTL ends it anyway.
  const failedRemoval = removals.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failedRemoval) logger.warn('could not remove a gone connection', { error: failedRemoval.reason as Error });
  if (outcome.failures.length > 0) {
    logger.warn('posts failed; message will be redelivered', { failed: outcome.failures.length, error: outcome.failures[0] as Error });
    throw new FanoutIncompleteError(`${outcome.failures.length} posts failed`);
  }
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processPartialResponse(event, deliver, processor, { context, throwOnFullBatchFailure: false });
};
