import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../local/s3';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let server: LocalS3;
let s3: S3Client;
let clock = Date.now();

beforeAll(async () => {
  server = await startLocalS3({ credentials, now: () => clock });
  s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'media' }));
});

afterAll(async () => {
  await server?.close();
});

const body = Buffer.from('%PDF-1.7 tiny');
const uploadUrl = (key: string) =>
  getSignedUrl(s3, new PutObjectCommand({ Bucket: 'media', Key: key, ContentType: 'application/pdf', ContentLength: body.length }), {
    expiresIn: 300,
    signableHeaders: new Set(['content-type', 'content-length']),
  });
const put = (url: string, contentType = 'application/pdf', payload: Buffer = body) => fetch(url, { method: 'PUT', headers: { 'content-type': contentType }, body: payload });

describe('the local S3 endpoint', () => {
  it('accepts a presigned PUT sent with the signed content type and length', async () => {
    const res = await put(await uploadUrl('a/ok.pdf'));
    expect(res.status).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'media', Key: 'a/ok.pdf' }));
    expect(head).toMatchObject({ ContentType: 'application/pdf', ContentLength: body.length });
  });

  it('refuses the same URL with another content type or another length', async () => {
    const url = await uploadUrl('a/strict.pdf');
    expect((await put(url, 'text/html')).status).toBe(403);
    expect((await put(url, 'application/pdf', Buffer.concat([body, Buffer.from('more')]))).status).toBe(403);
    expect(server.objectCount('media')).toBe(1);
  });

  it('refuses an expired, tampered, re-keyed or unsigned request', async () => {
    await put(await uploadUrl('a/secret.pdf'));
    const download = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'media', Key: 'a/secret.pdf', ResponseContentDisposition: 'attachment; filename="secret.pdf"' }), { expiresIn: 60 });
    const ok = await fetch(download);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-disposition')).toBe('attachment; filename="secret.pdf"');
    expect(Buffer.from(await ok.arrayBuffer())).toEqual(body);

    const tampered = new URL(download);
    const signature = tampered.searchParams.get('X-Amz-Signature') as string;
    tampered.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
    expect((await fetch(tampered)).status).toBe(403);

    const rekeyed = new URL(download);
    rekeyed.pathname = rekeyed.pathname.replace('secret.pdf', 'ok.pdf');
    expect((await fetch(rekeyed)).status).toBe(403);

    expect((await fetch(`${server.endpoint}/media/a/secret.pdf`)).status).toBe(403);

    clock += 61_000;
    const expired = await fetch(download);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
  });
});
