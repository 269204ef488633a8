import { HeadObjectCommand, NotFound, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { resolveAttachments } from '../../shared/media/attachments';
import { createUpload } from '../../shared/media/media';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const CHANNEL = '01JBZ2Y6Q7S8T9V0W1X2Y3Z4A5';
const MEDIA = '01JBZ2Y6Q7S8T9V0W1X2Y3Z4A6';
const editor = { userId: 'editor', groups: [] };

beforeEach(() => {
  ddb.reset();
  s3.reset();
  ddb.on(GetCommand, { Key: { pk: `channel#${CHANNEL}`, sk: 'head' } }).resolves({ Item: { type: 'channel', id: CHANNEL, admin_ids: ['editor'], head_seq: 0, head_change_seq: 0 } });
  ddb.on(PutCommand).resolves({});
});

describe('media uploads', () => {
  it('signs a PUT for exactly the announced type and length, valid at most 300 s, under an unguessable scoped key', async () => {
    const ticket = await createUpload(editor, { channel_id: CHANNEL }, 'application/pdf', 1234);
    const url = new URL(ticket.upload_url);
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(300);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(expect.arrayContaining(['content-type', 'content-length', 'host']));
    // No checksum of an empty body baked into the URL: the upload could never match it.
    expect([...url.searchParams.keys()].some((k) => k.toLowerCase().startsWith('x-amz-checksum'))).toBe(false);
    const key = (ddb.commandCalls(PutCommand)[0]?.args[0].input.Item as { key: string }).key;
    expect(key).toMatch(new RegExp(`^channel/${CHANNEL}/${ticket.media_id}-[0-9a-f]{32}$`));
    expect(url.pathname).toContain(key);
  });

  it.each([
    ['a content type outside the configured list', { channel_id: CHANNEL }, 'text/html', 10, 400],
    ['a size above the maximum', { channel_id: CHANNEL }, 'application/pdf', 10 * 1024 * 1024 * 1024, 413],
    ['a conversation scope, not supported yet', { conversation_id: CHANNEL }, 'application/pdf', 10, 400],
  ])('refuses %s', async (_name, scope, type, size, status) => {
    await expect(createUpload(editor, scope, type, size)).rejects.toMatchObject({ status });
  });

  it('lets only channel admins upload channel media', async () => {
    await expect(createUpload({ userId: 'reader', groups: [] }, { channel_id: CHANNEL }, 'application/pdf', 10)).rejects.toMatchObject({ status: 403 });
  });
});

describe('attaching media to a post', () => {
  const media = (overrides: Record<string, unknown> = {}) =>
    ddb.on(GetCommand, { Key: { pk: `media#${MEDIA}`, sk: 'media' } }).resolves({
      Item: { media_id: MEDIA, owner_id: 'editor', scope_kind: 'channel', scope_id: CHANNEL, key: 'k', content_type: 'application/pdf', size: 4, ...overrides },
    });

  it('resolves a completed upload of the author’s own, in the same scope', async () => {
    media();
    s3.on(HeadObjectCommand).resolves({ ContentLength: 4, ContentType: 'application/pdf' });
    await expect(resolveAttachments(editor, { channel_id: CHANNEL }, [MEDIA])).resolves.toEqual([{ id: MEDIA, content_type: 'application/pdf', size: 4 }]);
  });

  it.each([
    ['someone else’s media', { owner_id: 'intruder' }, 403],
    ['media of another channel', { scope_id: '01JBZ2Y6Q7S8T9V0W1X2Y3Z4A7' }, 400],
  ])('refuses %s', async (_name, overrides, status) => {
    media(overrides);
    s3.on(HeadObjectCommand).resolves({ ContentLength: 4, ContentType: 'application/pdf' });
    await expect(resolveAttachments(editor, { channel_id: CHANNEL }, [MEDIA])).rejects.toMatchObject({ status });
  });

  it('refuses an upload that never completed, and unknown media', async () => {
    media();
    s3.on(HeadObjectCommand).rejects(new NotFound({ message: 'not found', $metadata: {} }));
    await expect(resolveAttachments(editor, { channel_id: CHANNEL }, [MEDIA])).rejects.toMatchObject({ status: 400 });
    ddb.on(GetCommand, { Key: { pk: `media#${MEDIA}`, sk: 'media' } }).resolves({});
    await expect(resolveAttachments(editor, { channel_id: CHANNEL }, [MEDIA])).rejects.toMatchObject({ status: 404 });
  });
});
