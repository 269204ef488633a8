import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../local/s3';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const Bucket = 'media';
let server: LocalS3;
let s3: S3Client;
let clock = Date.now();

beforeAll(async () => {
  server = await startLocalS3({ credentials, region: 'us-east-1', now: () => clock });
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

describe('the local S3 endpoint checking payloads', () => {
  it('decodes an aws-chunked streaming upload and verifies its trailing checksum', async () => {
    const Key = 'stream/chunked.bin';
    const parts = [Buffer.alloc(70_000, 1), Buffer.from('tail')];
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: Readable.from(parts), ContentLength: 70_004, ContentType: 'application/octet-stream' }));
    expect(await stored(Key)).toEqual({ contentType: 'application/octet-stream', body: Buffer.concat(parts) });
  });

  it('refuses an upload whose CRC32 checksum does not match the body', async () => {
    const putting = s3.send(new PutObjectCommand({ Bucket, Key: 'bad/checksum.txt', Body: 'hello', ChecksumCRC32: 'AAAAAA==' }));
    await expect(putting).rejects.toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
    expect(await stored('bad/checksum.txt')).toBeUndefined();
  });

  it('keeps user metadata and the headers given on upload', async () => {
    const Key = 'meta/report.pdf';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: pdf, ContentType: 'application/pdf', CacheControl: 'private, max-age=60', Metadata: { 'uploaded-by': 'u-1' } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    expect(head).toMatchObject({ ContentType: 'application/pdf', CacheControl: 'private, max-age=60', Metadata: { 'uploaded-by': 'u-1' } });
  });

  it('serves a byte range', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'ranged.txt', Body: '0123456789' }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'ranged.txt', Range: 'bytes=2-5' }));
    expect(got).toMatchObject({ ContentRange: 'bytes 2-5/10', ContentLength: 4 });
    expect(await got.Body?.transformToString()).toBe('2345');
  });

  it('lists keys by prefix and delimiter', async () => {
    for (const Key of ['list/a.txt', 'list/b/one.txt', 'list/b/two.txt', 'other.txt']) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/', Delimiter: '/' }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual(['list/a.txt']);
    expect((listed.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['list/b/']);
    const paged = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/', MaxKeys: 2 }));
    expect(paged.IsTruncated).toBe(true);
    const rest = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/', ContinuationToken: paged.NextContinuationToken }));
    expect([...(paged.Contents ?? []), ...(rest.Contents ?? [])].map((o) => o.Key)).toEqual(['list/a.txt', 'list/b/one.txt', 'list/b/two.txt']);
  });

  it('answers NoSuchBucket for a bucket that was never created', async () => {
    await expect(s3.send(new GetObjectCommand({ Bucket: 'missing-bucket', Key: 'x' }))).rejects.toBeInstanceOf(NoSuchBucket);
  });
});

describe('the local S3 endpoint checking credentials', () => {
  const clientWith = (secretAccessKey: string, accessKeyId = 'local') =>
    new S3Client({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, forcePathStyle: true });

  it('refuses a request signed with another secret key', async () => {
    const other = clientWith('not-the-secret');
    await expect(other.send(new PutObjectCommand({ Bucket, Key: 'forged.txt', Body: 'x' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    other.destroy();
    expect(await stored('forged.txt')).toBeUndefined();
  });

  it('refuses an unknown access key id', async () => {
    const other = clientWith('local', 'someone-else');
    await expect(other.send(new GetObjectCommand({ Bucket, Key: 'x' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } });
    other.destroy();
  });

  it('refuses a request signed for another region', async () => {
    const other = new S3Client({ endpoint: server.endpoint, region: 'eu-west-1', credentials, forcePathStyle: true });
    await expect(other.send(new GetObjectCommand({ Bucket, Key: 'x' }))).rejects.toMatchObject({ name: 'AuthorizationHeaderMalformed', $metadata: { httpStatusCode: 400 } });
    other.destroy();
  });

  it('refuses an unsigned PUT and stores nothing', async () => {
    await expectDenied(await put(`${server.endpoint}/${Bucket}/anonymous.pdf`));
    expect(await stored('anonymous.pdf')).toBeUndefined();
  });

  it('refuses a presigned GET used for another key or another method', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'private/a.pdf', Body: pdf, ContentType: 'application/pdf' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'private/b.pdf', Body: pdf, ContentType: 'application/pdf' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: 'private/a.pdf' }), { expiresIn: 60 });
    expect((await fetch(url)).status).toBe(200);
    await expectDenied(await fetch(url.replace('private/a.pdf', 'private/b.pdf')));
    await expectDenied(await fetch(url, { method: 'DELETE' }));
    expect(server.objectCount(Bucket)).toBeGreaterThan(0);
    expect((await fetch(url)).status).toBe(200);
  });

  it('refuses a presigned URL whose response override was changed', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'private/c.pdf', Body: pdf, ContentType: 'application/pdf' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: 'private/c.pdf', ResponseContentType: 'text/plain' }), { expiresIn: 60 });
    const served = await fetch(url);
    expect(served.headers.get('content-type')).toBe('text/plain');
    await expectDenied(await fetch(url.replace('text%2Fplain', 'text%2Fhtml')));
  });

  it('refuses a presigned URL valid for more than a week', async () => {
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: 'private/c.pdf' }), { expiresIn: 60 }));
    url.searchParams.set('X-Amz-Expires', '604801');
    const response = await fetch(url);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>AuthorizationQueryParametersError</Code>');
  });
});

describe('the local S3 endpoint for browsers', () => {
  it('answers a CORS preflight for a PUT with the requested headers', async () => {
    const response = await fetch(`${server.endpoint}/${Bucket}/up/browser.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.local', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://app.local');
    expect(response.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  it('lets the page read the answer of a presigned PUT, its ETag included', async () => {
    const response = await fetch(await presignedPut('up/browser.pdf'), { method: 'PUT', headers: { 'content-type': 'application/pdf', origin: 'http://app.local' }, body: pdf });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://app.local');
    expect(response.headers.get('access-control-expose-headers')).toContain('ETag');
  });
});
