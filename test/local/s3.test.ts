import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../local/s3';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const Bucket = 'media';
let server: LocalS3;
let s3: S3Client;
let clock = Date.now();

beforeAll(async () => {
  server = await startLocalS3({ credentials, now: () => clock });
  s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket }));
});

// Presigned URLs are dated by the SDK's real clock; each test starts the fake clock there.
beforeEach(() => {
  clock = Date.now();
});

afterAll(async () => {
  s3?.destroy();
  await server?.close();
});

const pdf = Buffer.from('%PDF-1.7 a tiny document');

const presignedPut = (Key: string, ContentType = 'application/pdf', ContentLength = pdf.length) =>
  getSignedUrl(s3, new PutObjectCommand({ Bucket, Key, ContentType, ContentLength }), {
    expiresIn: 300,
    signableHeaders: new Set(['content-type', 'content-length']),
  });

const put = (url: string | URL, contentType = 'application/pdf', body: Buffer = pdf) => fetch(url, { method: 'PUT', headers: { 'content-type': contentType }, body });

const stored = async (Key: string) => {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
    return { contentType: object.ContentType, body: Buffer.from(await (object.Body?.transformToByteArray() ?? new Uint8Array())) };
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined;
    throw error;
  }
};

const expectDenied = async (response: Response) => {
  expect(response.status).toBe(403);
  expect(await response.text()).toMatch(/<Code>(AccessDenied|SignatureDoesNotMatch)<\/Code>/);
};

describe('the local S3 endpoint with the SDK client', () => {
  it('puts, heads, gets and deletes an object', async () => {
    const Key = 'docs/a file ü.txt';
    const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'hello, bucket', ContentType: 'text/plain' }));
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);

    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    expect(head).toMatchObject({ ContentType: 'text/plain', ContentLength: 13, ETag: put.ETag });

    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(got.ContentType).toBe('text/plain');
    expect(await got.Body?.transformToString()).toBe('hello, bucket');

    await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key }))).rejects.toBeInstanceOf(NotFound);
    await expect(s3.send(new GetObjectCommand({ Bucket, Key }))).rejects.toBeInstanceOf(NoSuchKey);
  });

  it('stores a binary body byte for byte', async () => {
    const Key = 'bin/all-bytes';
    const Body = Uint8Array.from({ length: 256 }, (_, i) => i);
    await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'application/octet-stream' }));
    expect(await stored(Key)).toEqual({ contentType: 'application/octet-stream', body: Buffer.from(Body) });
  });
});

describe('the local S3 endpoint with presigned URLs', () => {
  it('accepts a presigned PUT sent with the signed content type and body length', async () => {
    const response = await put(await presignedPut('up/ok.pdf'));
    expect(response.status).toBe(200);
    expect(await stored('up/ok.pdf')).toEqual({ contentType: 'application/pdf', body: pdf });
  });

  it('refuses a presigned PUT sent with another content type', async () => {
    await expectDenied(await put(await presignedPut('up/type.pdf'), 'text/html'));
    expect(await stored('up/type.pdf')).toBeUndefined();
  });

  it('refuses a presigned PUT sent with a body of another length', async () => {
    const url = await presignedPut('up/length.pdf');
    await expectDenied(await put(url, 'application/pdf', Buffer.concat([pdf, Buffer.from(' and more')])));
    await expectDenied(await put(url, 'application/pdf', pdf.subarray(1)));
    expect(await stored('up/length.pdf')).toBeUndefined();
  });

  it('accepts a presigned PUT until it expires and refuses it after', async () => {
    const url = await presignedPut('up/expiring.pdf');
    clock += 299_000;
    expect((await put(url)).status).toBe(200);
    clock += 2_000;
    const expired = await put(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
  });

  it('refuses a presigned PUT whose key was changed', async () => {
    const url = new URL(await presignedPut('up/mine.pdf'));
    url.pathname = url.pathname.replace('mine.pdf', 'theirs.pdf');
    await expectDenied(await put(url));
    expect(await stored('up/theirs.pdf')).toBeUndefined();
  });

  it('refuses a presigned PUT whose signature was tampered with', async () => {
    const url = new URL(await presignedPut('up/tampered.pdf'));
    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    url.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
    await expectDenied(await put(url));
    expect(await stored('up/tampered.pdf')).toBeUndefined();
  });

  it('refuses an unsigned GET', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'private/report.pdf', Body: pdf, ContentType: 'application/pdf' }));
    await expectDenied(await fetch(`${server.endpoint}/${Bucket}/private/report.pdf`));
  });

  it('serves a presigned GET with the requested content disposition', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'private/invoice.pdf', Body: pdf, ContentType: 'application/pdf' }));
    const disposition = 'attachment; filename="invoice.pdf"';
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: 'private/invoice.pdf', ResponseContentDisposition: disposition }), { expiresIn: 60 });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(disposition);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(pdf);
  });
});
