/**
 * A small S3 endpoint (path-style) that authenticates every request as S3 does with
 * SigV4 — Authorization header or presigned query — so a tampered, expired or unsigned
 * request, or one whose signed content type or length differs, gets 403.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, readBody } from './http-util';

export interface LocalS3 {
  readonly endpoint: string;
  close(): Promise<void>;
  objectCount(bucket: string): number;
}

interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: Date;
}

const MAX_PRESIGN_SECONDS = 604_800;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it. */
const encode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

class AuthError extends Error {
  constructor(
    readonly code: 'AccessDenied' | 'SignatureDoesNotMatch',
    message: string,
  ) {
    super(message);
  }
}

interface SignatureParts {
  readonly credential: string;
  readonly signedHeaders: string[];
  readonly signature: string;
  readonly amzDate: string;
  readonly payloadHash: string;
  readonly expiresSeconds?: number;
}

function signatureParts(req: IncomingMessage, url: URL): SignatureParts {
  const q = url.searchParams;
  if (q.has('X-Amz-Signature')) {
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw new AuthError('AccessDenied', 'Unsupported signing algorithm.');
    const expires = Number(q.get('X-Amz-Expires'));
    if (!(expires > 0 && expires <= MAX_PRESIGN_SECONDS)) throw new AuthError('AccessDenied', 'X-Amz-Expires must be between 1 and 604800 seconds.');
    return {
      credential: q.get('X-Amz-Credential') ?? '',
      signedHeaders: (q.get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean),
      signature: q.get('X-Amz-Signature') ?? '',
      amzDate: q.get('X-Amz-Date') ?? '',
      payloadHash: 'UNSIGNED-PAYLOAD',
      expiresSeconds: expires,
    };
  }
  const auth = req.headers.authorization;
  if (!auth?.startsWith('AWS4-HMAC-SHA256 ')) throw new AuthError('AccessDenied', 'Access Denied');
  const fields = Object.fromEntries(
    auth
      .slice('AWS4-HMAC-SHA256 '.length)
      .split(',')
      .map((p) => p.trim().split('=') as [string, string]),
  );
  return {
    credential: fields.Credential ?? '',
    signedHeaders: (fields.SignedHeaders ?? '').split(';').filter(Boolean),
    signature: fields.Signature ?? '',
    amzDate: String(req.headers['x-amz-date'] ?? ''),
    payloadHash: String(req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD'),
  };
}

function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
}

function verify(req: IncomingMessage, url: URL, body: Buffer, secrets: { accessKeyId: string; secretAccessKey: string }, now: number): void {
  const parts = signatureParts(req, url);
  const [keyId, date, region, service, terminator] = parts.credential.split('/');
  if (keyId !== secrets.accessKeyId || !date || !region || service !== 's3' || terminator !== 'aws4_request') {
    throw new AuthError('AccessDenied', 'The credential is not valid for this endpoint.');
  }
  const signedAt = parseAmzDate(parts.amzDate);
  if (!Number.isFinite(signedAt)) throw new AuthError('AccessDenied', 'X-Amz-Date is not valid.');
  if (parts.expiresSeconds !== undefined && now > signedAt + parts.expiresSeconds * 1000) throw new AuthError('AccessDenied', 'Request has expired');
  if (!parts.signedHeaders.includes('host')) throw new AuthError('AccessDenied', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  if (parts.payloadHash !== 'UNSIGNED-PAYLOAD' && parts.payloadHash !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' && parts.payloadHash !== sha256(body)) {
    throw new AuthError('SignatureDoesNotMatch', 'The provided x-amz-content-sha256 does not match the payload.');
  }
  const canonicalPath = url.pathname
    .split('/')
    .map((segment) => encode(decodeURIComponent(segment)))
    .join('/');
  const canonicalQuery = [...url.searchParams]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [encode(k), encode(v)])
    .sort(([a, av], [b, bv]) => (a === b ? (av as string).localeCompare(bv as string) : (a as string) < (b as string) ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = parts.signedHeaders
    .map((name) => {
      const value = req.headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${String(text).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonical = [req.method, canonicalPath, canonicalQuery, canonicalHeaders, parts.signedHeaders.join(';'), parts.payloadHash].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', parts.amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secrets.secretAccessKey}`, date), region), 's3'), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  const given = Buffer.from(parts.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
    throw new AuthError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
}

export async function startLocalS3(options: {
  host?: string;
  port?: number;
  now?: () => number;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region?: string;
}): Promise<LocalS3> {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Map<string, StoredObject>>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method === 'OPTIONS') {
      res.writeHead(200, {
        'access-control-allow-origin': String(req.headers.origin ?? '*'),
        'access-control-allow-methods': 'GET, PUT, HEAD',
        'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? '*'),
        'access-control-max-age': '3000',
      });
      res.end();
      return;
    }
    const body = await readBody(req);
    try {
      verify(req, url, body, options.credentials, now());
    } catch (error) {
      if (error instanceof AuthError) return xmlError(res, 403, error.code, error.message);
      throw error;
    }
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const key = keyParts.map(decodeURIComponent).join('/');
    const bucket = buckets.get(decodeURIComponent(bucketName));
    if (!key) {
      if (req.method === 'PUT') {
        if (!bucket) buckets.set(decodeURIComponent(bucketName), new Map());
        res.writeHead(200, { location: `/${bucketName}` }).end();
        return;
      }
      return xmlError(res, 400, 'InvalidRequest', 'Only object operations are served.');
    }
    if (!bucket) return xmlError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const cors = req.headers.origin ? { 'access-control-allow-origin': String(req.headers.origin) } : {};
    switch (req.method) {
      case 'PUT': {
        const etag = `"${createHash('md5').update(body).digest('hex')}"`;
        bucket.set(key, { body, contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'), etag, lastModified: new Date(now()) });
        res.writeHead(200, { etag, ...cors }).end();
        return;
      }
      case 'GET':
      case 'HEAD': {
        const object = bucket.get(key);
        if (!object) {
          if (req.method === 'HEAD') return void res.writeHead(404).end();
          return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        }
        const disposition = url.searchParams.get('response-content-disposition');
        res.writeHead(200, {
          'content-type': url.searchParams.get('response-content-type') ?? object.contentType,
          'content-length': object.body.length,
          etag: object.etag,
          'last-modified': object.lastModified.toUTCString(),
          ...(disposition ? { 'content-disposition': disposition } : {}),
          ...cors,
        });
        res.end(req.method === 'GET' ? object.body : undefined);
        return;
      }
      case 'DELETE':
        bucket.delete(key);
        res.writeHead(204, cors).end();
        return;
      default:
        return xmlError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
  }

  const server = await listen(handle, options);
  return { endpoint: server.url, close: () => server.close(), objectCount: (bucket) => buckets.get(bucket)?.size ?? 0 };
}
