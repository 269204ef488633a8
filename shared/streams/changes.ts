/**
 * "What changed after N": the entries of one stream whose latest change is after a
 * change_seq, in their latest state, ascending by change_seq. Feeds `/changes` and the
 * WebSocket catch-up, so it reads strongly consistently (LSI `by_change_seq`).
 */
import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { windowsContain, type ReadWindow } from '../access/decision';
import { ddb } from '../clients/dynamodb';
import { config } from '../config';
import { ENTRIES_BY_CHANGE_SEQ } from '../spec/tables';
import type { EntryItem } from './entry';

export interface ChangesPage {
  /** At most `limit` entries inside the windows, ascending by change_seq. */
  readonly entries: EntryItem[];
  /** Whether a readable entry changed after the last one returned. */
  readonly has_more: boolean;
}

/** Entries read per Query when windows hide some: fewer round trips over hidden stretches. */
const FILTERED_PAGE = 100;

/**
 * The readable entries changed after `afterChangeSeq`. `windows` undefined: everything is
 * readable. Entries outside the windows are skipped (read, never returned), so a page is
 * short only at the end of the stream.
 */
export async function changesAfter(
  stream: string,
  afterChangeSeq: number,
  limit: number,
  windows: readonly ReadWindow[] | undefined,
): Promise<ChangesPage> {
  // No window at all: nothing is readable, and nothing needs reading.
  if (windows !== undefined && windows.length === 0) return { entries: [], has_more: false };
  const found: EntryItem[] = [];
  let startKey: QueryCommandOutput['LastEvaluatedKey'];
  // One more than asked tells whether more remain.
  while (found.length <= limit) {
    const need = limit + 1 - found.length;
    const page = await ddb.send(
      new QueryCommand({
        TableName: config.TABLE_ENTRIES,
        IndexName: ENTRIES_BY_CHANGE_SEQ,
        KeyConditionExpression: '#stream = :stream AND change_seq > :after',
        ExpressionAttributeNames: { '#stream': 'stream' },
        ExpressionAttributeValues: { ':stream': stream, ':after': afterChangeSeq },
        ConsistentRead: true,
        ScanIndexForward: true,
        Limit: windows === undefined ? need : Math.max(need, FILTERED_PAGE),
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of (page.Items ?? []) as EntryItem[]) {
      if (found.length > limit) break;
      if (windowsContain(windows, item.created_at)) found.push(item);
    }
    startKey = page.LastEvaluatedKey;
    if (!startKey) break;
  }
  return { entries: found.slice(0, limit), has_more: found.length > limit };
}
