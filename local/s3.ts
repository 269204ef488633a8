/**
 * A small S3 endpoint (path-style, in memory) that authenticates every request as S3 does
 * with SigV4 — Authorization header or presigned query — so a tampered, expired or unsigned
 * request, or one whose signed headers (content type, content length) differ, gets 403.
 * Objects keep their content type, metadata and ETag; request checksums sent as headers or
 * aws-chunked trailers are verified as S3 verifies them.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { BodyTooLargeError, escapeXml, listen, readBody, sendXml } from './http-util';

export interface LocalS3 {
  readonly endpoint: string;
  close(): Promise<void>;
  objectCount(bucket: string): number;
}

interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
  readonly lastModified: Date;
  /** Headers answered on GET and HEAD as they were given on PUT: content-type, cache-control, x-amz-meta-*… */
  readonly headers: Record<string, string>;
  /** Checksums the writer sent and S3 verified, answered when asked with x-amz-checksum-mode. */
  readonly checksums: Record<string, string>;
}

interface Bucket {
  readonly createdAt: Date;
  readonly objects: Map<string, StoredObject>;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_PRESIGN_SECONDS = 604_800;
const MAX_OBJECT_BYTES = 256 * 1024 * 1024;
const UNSIGNED = 'UNSIGNED-PAYLOAD';
const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** Headers stored with an object and answered on GET and HEAD. */
const STORED_HEADERS = ['content-type', 'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];
/** Subresources S3 has and this endpoint does not serve: answered 501 rather than misread as object requests. */
const UNSERVED_SUBRESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'delete', 'encryption', 'intelligent-tiering', 'inventory', 'legal-hold',
  'lifecycle', 'location', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'partNumber', 'policy',
  'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention', 'select', 'tagging', 'torrent',
  'uploadId', 'uploads', 'versioning', 'versionId', 'versions', 'website',
]);
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
  'response-content-language': 'content-language',
  'response-cache-control': 'cache-control',
  'response-expires': 'expires',
};

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** URI encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ percent-encoded. */
const encode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
/** Code-unit order, as SigV4 sorts (not locale order). */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, string> = {},
  ) {
    super(message);
  }
}

const accessDenied = (message = 'Access Denied') => new S3Error(403, 'AccessDenied', message);

/** The checksums S3 verifies here; CRC32C and CRC64NVME are accepted unverified. */
const CHECKSUMS: Record<string, { label: string; compute: (data: Buffer) => string }> = {
  'x-amz-checksum-crc32': {
    label: 'CRC32',
    compute: (data) => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc32(data));
      return out.toString('base64');
    },
  },
  'x-amz-checksum-sha1': { label: 'SHA1', compute: (data) => createHash('sha1').update(data).digest('base64') },
  'x-amz-checksum-sha256': { label: 'SHA256', compute: (data) => createHash('sha256').update(data).digest('base64') },
};

interface RawRequest {
  readonly method: string;
  /** Path segments, decoded: ['bucket', 'key', 'parts'] */
  readonly segments: string[];
  /** Query pairs, decoded, in request order. */
  readonly query: [string, string][];
  readonly params: Map<string, string>;
}

function parseRequest(req: IncomingMessage): RawRequest {
  const raw = req.url ?? '/';
  const mark = raw.indexOf('?');
  const rawPath = mark < 0 ? raw : raw.slice(0, mark);
  const rawQuery = mark < 0 ? '' : raw.slice(mark + 1);
  try {
    const segments = rawPath.split('/').slice(1).map((s) => decodeURIComponent(s));
    const query = rawQuery
      .split('&')
      .filter(Boolean)
      .map((pair): [string, string] => {
        const eq = pair.indexOf('=');
        const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
        return eq < 0 ? [decode(pair), ''] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
      });
    return { method: req.method ?? 'GET', segments, query, params: new Map(query) };
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
}

interface Authorization {
  readonly presigned: boolean;
  readonly credential: string;
  readonly signedHeaders: string[];
  readonly signature: string;
  readonly amzDate: string;
  readonly payloadHash: string;
}

/** Reads the SigV4 fields from the query (presigned) or the Authorization header; no signature at all is 403. */
function authorizationOf(req: IncomingMessage, request: RawRequest, now: number): Authorization {
  const q = request.params;
  const auth = header(req, 'authorization');
  const presigned = [...q.keys()].some((k) => k.startsWith('X-Amz-'));
  if (presigned && auth) throw new S3Error(400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified');
  if (presigned) {
    const required = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'];
    if (required.some((k) => !q.get(k))) {
      throw new S3Error(400, 'AuthorizationQueryParametersError', `Query-string authentication version 4 requires the ${required.join(', ')} parameters.`);
    }
    if (q.get('X-Amz-Algorithm') !== ALGORITHM) throw new S3Error(400, 'AuthorizationQueryParametersError', `X-Amz-Algorithm only supports "${ALGORITHM}"`);
    const expiresText = q.get('X-Amz-Expires') as string;
    const expires = Number(expiresText);
    if (!/^\d+$/.test(expiresText) || expires < 1) throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number greater than 0');
    if (expires > MAX_PRESIGN_SECONDS) throw new S3Error(400, 'AuthorizationQueryParametersError', `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGN_SECONDS}`);
    const amzDate = q.get('X-Amz-Date') as string;
    const signedAt = parseAmzDate(amzDate);
    if (!Number.isFinite(signedAt)) throw new S3Error(400, 'AuthorizationQueryParametersError', "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
    const expiresAt = signedAt + expires * 1000;
    if (now > expiresAt) {
      throw new S3Error(403, 'AccessDenied', 'Request has expired', {
        'X-Amz-Expires': expiresText,
        Expires: new Date(expiresAt).toISOString(),
        ServerTime: new Date(now).toISOString(),
      });
    }
    return {
      presigned: true,
      credential: q.get('X-Amz-Credential') as string,
      signedHeaders: (q.get('X-Amz-SignedHeaders') as string).split(';'),
      signature: q.get('X-Amz-Signature') as string,
      amzDate,
      payloadHash: q.get('X-Amz-Content-Sha256') ?? UNSIGNED,
    };
  }
  if (!auth) throw accessDenied();
  if (!auth.startsWith(`${ALGORITHM} `)) throw new S3Error(400, 'InvalidArgument', 'Unsupported Authorization Type');
  const fields = new Map(
    auth
      .slice(ALGORITHM.length + 1)
      .split(',')
      .map((part): [string, string] => {
        const eq = part.indexOf('=');
        return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
      }),
  );
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) throw new S3Error(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; it needs Credential, SignedHeaders and Signature.');
  const amzDate = header(req, 'x-amz-date');
  if (!amzDate || !Number.isFinite(parseAmzDate(amzDate))) throw accessDenied('AWS authentication requires a valid Date or x-amz-date header');
  const payloadHash = header(req, 'x-amz-content-sha256');
  if (!payloadHash) throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  return { presigned: false, credential, signedHeaders: signedHeaders.split(';'), signature, amzDate, payloadHash };
}

/** Recomputes the SigV4 signature of the request with the configured secret; any difference is 403. */
function verifySignature(
  req: IncomingMessage,
  request: RawRequest,
  auth: Authorization,
  secrets: { accessKeyId: string; secretAccessKey: string },
  region: string | undefined,
): void {
  const malformed = auth.presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed';
  const parts = auth.credential.split('/');
  const [keyId, date, scopeRegion, service, terminator] = parts;
  if (parts.length !== 5 || !keyId || !date || !scopeRegion || terminator !== 'aws4_request') {
    throw new S3Error(400, malformed, `The credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  if (keyId !== secrets.accessKeyId) throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (date !== auth.amzDate.slice(0, 8)) throw new S3Error(400, malformed, `Invalid credential date "${date}". This date is not the same as X-Amz-Date: "${auth.amzDate.slice(0, 8)}".`);
  if (region && scopeRegion !== region) throw new S3Error(400, malformed, `The authorization header is malformed; the region '${scopeRegion}' is wrong; expecting '${region}'`);
  if (service !== 's3') throw new S3Error(400, malformed, `The authorization header is malformed; incorrect service "${service}". This endpoint belongs to "s3".`);
  if (!auth.signedHeaders.includes('host')) throw accessDenied("'Host' must be a 'SignedHeader' in the AWS Authorization.");

  const canonicalUri = `/${request.segments.map(encode).join('/')}`;
  const canonicalQuery = request.query
    .filter(([k]) => !(auth.presigned && k === 'X-Amz-Signature'))
    .map(([k, v]): [string, string] => [encode(k), encode(v)])
    .sort(([a, av], [b, bv]) => byCodeUnits(a, b) || byCodeUnits(av, bv))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = auth.signedHeaders.map((name) => `${name}:${(header(req, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [request.method, canonicalUri, canonicalQuery, canonicalHeaders, auth.signedHeaders.join(';'), auth.payloadHash].join('\n');
  const scope = `${date}/${scopeRegion}/s3/aws4_request`;
  const stringToSign = [ALGORITHM, auth.amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secrets.secretAccessKey}`, date), scopeRegion), 's3'), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const given = Buffer.from(auth.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      AWSAccessKeyId: keyId,
      StringToSign: stringToSign,
      CanonicalRequest: canonicalRequest,
    });
  }
}

/** Decodes an aws-chunked body: `<hex size>[;ext]\r\n<data>\r\n` … `0\r\n`, then trailer lines. */
function decodeAwsChunked(body: Buffer): { data: Buffer; trailers: Map<string, string> } {
  const chunks: Buffer[] = [];
  const trailers = new Map<string, string>();
  const incomplete = () => new S3Error(400, 'IncompleteBody', 'The request body is not valid aws-chunked encoding.');
  let at = 0;
  const line = () => {
    const end = body.indexOf('\r\n', at);
    if (end < 0) throw incomplete();
    const text = body.subarray(at, end).toString('latin1');
    at = end + 2;
    return text;
  };
  for (;;) {
    const sizeText = (line().split(';')[0] ?? '').trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw incomplete();
    const size = Number.parseInt(sizeText, 16);
    if (size === 0) break;
    if (at + size + 2 > body.length || body.subarray(at + size, at + size + 2).toString('latin1') !== '\r\n') throw incomplete();
    chunks.push(body.subarray(at, at + size));
    at += size + 2;
  }
  while (at < body.length) {
    const text = line();
    if (text === '') break;
    const colon = text.indexOf(':');
    if (colon < 0) throw incomplete();
    trailers.set(text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim());
  }
  return { data: Buffer.concat(chunks), trailers };
}

/** The object's bytes once the payload matches what the signature and checksums say. */
function payloadOf(req: IncomingMessage, auth: Authorization, body: Buffer): { data: Buffer; checksums: Record<string, string> } {
  let data = body;
  // Header and trailer checksums only: S3 ignores the x-amz-checksum-* a presigned URL carries
  // in its query (the SDK signs the CRC32 of an empty body there).
  const sent = new Map<string, string>();
  for (const name of Object.keys(CHECKSUMS).concat('x-amz-checksum-crc32c', 'x-amz-checksum-crc64nvme')) {
    const value = header(req, name);
    if (value) sent.set(name, value);
  }
  if (auth.payloadHash === STREAMING_UNSIGNED_TRAILER) {
    if (!(header(req, 'content-encoding') ?? '').split(',').some((e) => e.trim() === 'aws-chunked')) {
      throw new S3Error(400, 'InvalidArgument', 'An aws-chunked payload needs Content-Encoding: aws-chunked.');
    }
    const decoded = decodeAwsChunked(body);
    data = decoded.data;
    const declared = header(req, 'x-amz-decoded-content-length');
    if (declared !== undefined && Number(declared) !== data.length) throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the x-amz-decoded-content-length header.');
    for (const [name, value] of decoded.trailers) if (name.startsWith('x-amz-checksum-')) sent.set(name, value);
  } else if (auth.payloadHash.startsWith('STREAMING-')) {
    throw new S3Error(501, 'NotImplemented', `The local S3 endpoint does not accept ${auth.payloadHash} payloads; use UNSIGNED-PAYLOAD, a payload hash or ${STREAMING_UNSIGNED_TRAILER}.`);
  } else if (auth.payloadHash !== UNSIGNED) {
    if (!/^[0-9a-f]{64}$/.test(auth.payloadHash)) throw new S3Error(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.');
    if (auth.payloadHash !== sha256(body)) throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const contentMd5 = header(req, 'content-md5');
  if (contentMd5 !== undefined) {
    if (Buffer.from(contentMd5, 'base64').length !== 16) throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
    if (createHash('md5').update(data).digest('base64') !== contentMd5) throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  for (const [name, value] of sent) {
    const check = CHECKSUMS[name];
    if (check && check.compute(data) !== value) throw new S3Error(400, 'BadDigest', `The ${check.label} you specified did not match the calculated checksum.`);
  }
  return { data, checksums: Object.fromEntries(sent) };
}

/** `Range: bytes=a-b | a- | -n` against a size: the slice, undefined to serve it all, or 416. */
function rangeOf(value: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = value ? /^bytes=(\d*)-(\d*)$/.exec(value.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // S3 ignores a range it cannot parse.
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || (m[1] === '' && Number(m[2]) === 0)) {
    throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: value as string, ActualObjectSize: String(size) });
  }
  return { start, end };
}

const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export async function startLocalS3(options: {
  host?: string;
  port?: number;
  now?: () => number;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region?: string;
}): Promise<LocalS3> {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();

  function bucketOf(name: string): Bucket {
    const bucket = buckets.get(name);
    if (!bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: name });
    return bucket;
  }

  function listObjectsV2(name: string, bucket: Bucket, q: Map<string, string>): string {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = Math.min(1000, Math.max(0, Number(q.get('max-keys') ?? 1000) || 0));
    const token = q.get('continuation-token');
    const after = token !== undefined ? Buffer.from(token, 'base64url').toString('utf8') : (q.get('start-after') ?? '');
    const contents: [string, StoredObject][] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let last = '';
    for (const key of [...bucket.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort(byCodeUnits)) {
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const common = cut >= 0 ? key.slice(0, cut + delimiter.length) : undefined;
      if (common !== undefined && prefixes.at(-1) === common) continue;
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (common !== undefined) prefixes.push(common);
      else contents.push([key, bucket.objects.get(key) as StoredObject]);
      // A continuation resumes past the whole common prefix, not inside it.
      last = common !== undefined ? `${common}\uFFFF` : key;
    }
    const element = (tag: string, value: string) => `<${tag}>${escapeXml(value)}</${tag}>`;
    // encoding-type=url (the AWS CLI asks for it): keys, prefixes and delimiters come URL-encoded.
    const urlEncoded = q.get('encoding-type') === 'url';
    const keyElement = (tag: string, value: string) => element(tag, urlEncoded ? value.split('/').map(encode).join('/') : value);
    return [
      `<ListBucketResult xmlns="${NAMESPACE}">`,
      element('Name', name),
      keyElement('Prefix', prefix),
      ...(delimiter ? [keyElement('Delimiter', delimiter)] : []),
      ...(urlEncoded ? [element('EncodingType', 'url')] : []),
      element('MaxKeys', String(maxKeys)),
      element('KeyCount', String(contents.length + prefixes.length)),
      element('IsTruncated', String(truncated)),
      ...(token !== undefined ? [element('ContinuationToken', token)] : []),
      ...(truncated ? [element('NextContinuationToken', Buffer.from(last).toString('base64url'))] : []),
      ...contents.map(
        ([key, o]) =>
          `<Contents>${keyElement('Key', key)}${element('LastModified', o.lastModified.toISOString())}${element('ETag', o.etag)}${element('Size', String(o.body.length))}<StorageClass>STANDARD</StorageClass></Contents>`,
      ),
      ...prefixes.map((p) => `<CommonPrefixes>${keyElement('Prefix', p)}</CommonPrefixes>`),
      '</ListBucketResult>',
    ].join('');
  }

  /** Serves an authenticated request; answers through `res` or throws S3Error. */
  function serve(req: IncomingMessage, res: ServerResponse, request: RawRequest, auth: Authorization, body: Buffer, cors: Record<string, string>): void {
    const { method, segments, params } = request;
    const unserved = [...params.keys()].find((k) => UNSERVED_SUBRESOURCES.has(k));
    if (unserved) throw new S3Error(501, 'NotImplemented', `The local S3 endpoint does not serve the ${unserved} subresource.`);
    const [bucketName = '', ...keyParts] = segments;
    const key = keyParts.join('/');

    if (bucketName === '') {
      if (method !== 'GET') throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      const list = [...buckets].map(([name, b]) => `<Bucket><Name>${escapeXml(name)}</Name><CreationDate>${b.createdAt.toISOString()}</CreationDate></Bucket>`).join('');
      return sendXml(res, 200, `<ListAllMyBucketsResult xmlns="${NAMESPACE}"><Owner><ID>local</ID></Owner><Buckets>${list}</Buckets></ListAllMyBucketsResult>`, cors);
    }

    if (keyParts.length === 0 || (keyParts.length === 1 && key === '')) {
      switch (method) {
        case 'PUT':
          if (!BUCKET_NAME.test(bucketName)) throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucketName });
          if (!buckets.has(bucketName)) buckets.set(bucketName, { createdAt: new Date(now()), objects: new Map() });
          res.writeHead(200, { location: `/${bucketName}`, ...cors }).end();
          return;
        case 'HEAD':
          bucketOf(bucketName);
          res.writeHead(200, { 'x-amz-bucket-region': options.region ?? 'us-east-1', ...cors }).end();
          return;
        case 'DELETE':
          if (bucketOf(bucketName).objects.size > 0) throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucketName });
          buckets.delete(bucketName);
          res.writeHead(204, cors).end();
          return;
        case 'GET':
          if (params.get('list-type') !== '2') throw new S3Error(501, 'NotImplemented', 'The local S3 endpoint lists objects with ListObjectsV2 (list-type=2) only.');
          return sendXml(res, 200, listObjectsV2(bucketName, bucketOf(bucketName), params), cors);
        default:
          throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      }
    }

    const bucket = bucketOf(bucketName);
    if (Buffer.byteLength(key) > 1024) throw new S3Error(400, 'KeyTooLongError', 'Your key is too long');
    switch (method) {
      case 'PUT': {
        if (header(req, 'x-amz-copy-source')) throw new S3Error(501, 'NotImplemented', 'The local S3 endpoint does not serve CopyObject.');
        if (header(req, 'if-none-match') === '*' && bucket.objects.has(key)) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
        const { data, checksums } = payloadOf(req, auth, body);
        const headers: Record<string, string> = {};
        for (const name of STORED_HEADERS) {
          const value = header(req, name);
          if (value !== undefined) headers[name] = value;
        }
        if (headers['content-encoding'] !== undefined) {
          const encodings = headers['content-encoding'].split(',').map((e) => e.trim()).filter((e) => e && e !== 'aws-chunked');
          if (encodings.length > 0) headers['content-encoding'] = encodings.join(',');
          else delete headers['content-encoding'];
        }
        headers['content-type'] ??= 'binary/octet-stream';
        for (const [name, value] of Object.entries(req.headers)) {
          if (name.startsWith('x-amz-meta-') && value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
        }
        const etag = `"${createHash('md5').update(data).digest('hex')}"`;
        bucket.objects.set(key, { body: data, etag, lastModified: new Date(now()), headers, checksums });
        res.writeHead(200, { etag, ...checksums, ...cors }).end();
        return;
      }
      case 'GET':
      case 'HEAD': {
        const object = bucket.objects.get(key);
        if (!object) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
        const ifMatch = header(req, 'if-match');
        if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(',').some((t) => t.trim() === object.etag)) {
          throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
        }
        const ifNoneMatch = header(req, 'if-none-match');
        if (ifNoneMatch !== undefined && (ifNoneMatch === '*' || ifNoneMatch.split(',').some((t) => t.trim() === object.etag))) {
          res.writeHead(304, { etag: object.etag, ...cors }).end();
          return;
        }
        const range = rangeOf(header(req, 'range'), object.body.length);
        const overrides = Object.fromEntries(
          Object.entries(RESPONSE_OVERRIDES)
            .filter(([param]) => params.has(param))
            .map(([param, name]) => [name, params.get(param) as string]),
        );
        const wantsChecksum = (header(req, 'x-amz-checksum-mode') ?? params.get('x-amz-checksum-mode')) === 'ENABLED';
        const slice = range ? object.body.subarray(range.start, range.end + 1) : object.body;
        res.writeHead(range ? 206 : 200, {
          ...object.headers,
          ...overrides,
          'content-length': slice.length,
          etag: object.etag,
          'last-modified': object.lastModified.toUTCString(),
          'accept-ranges': 'bytes',
          ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${object.body.length}` } : {}),
          ...(wantsChecksum && !range ? object.checksums : {}),
          ...cors,
        });
        res.end(method === 'GET' ? slice : undefined);
        return;
      }
      case 'DELETE':
        bucket.objects.delete(key);
        res.writeHead(204, cors).end();
        return;
      default:
        throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    const origin = header(req, 'origin');
    const cors: Record<string, string> = origin
      ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'ETag, x-amz-request-id, x-amz-checksum-crc32', vary: 'Origin' }
      : {};
    if (req.method === 'OPTIONS') {
      // CORS preflight (unsigned, as browsers send it): any origin may GET, HEAD and PUT with any headers.
      const method = header(req, 'access-control-request-method');
      if (!origin || !method) {
        await readBody(req).catch(() => undefined);
        return sendXml(res, 400, `<Error><Code>BadRequest</Code><Message>Insufficient information. Origin request header needed.</Message><RequestId>${requestId}</RequestId></Error>`);
      }
      res.writeHead(200, {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': 'GET, HEAD, PUT, DELETE',
        'access-control-allow-headers': header(req, 'access-control-request-headers') ?? '',
        'access-control-expose-headers': cors['access-control-expose-headers'] as string,
        'access-control-max-age': '3000',
        vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
      });
      res.end();
      return;
    }
    let resource = req.url ?? '/';
    try {
      const body = await readBody(req, MAX_OBJECT_BYTES).catch((error: unknown) => {
        if (error instanceof BodyTooLargeError) throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { MaxSizeAllowed: String(MAX_OBJECT_BYTES) });
        throw error;
      });
      const request = parseRequest(req);
      resource = `/${request.segments.join('/')}`;
      const auth = authorizationOf(req, request, now());
      verifySignature(req, request, auth, options.credentials, options.region);
      serve(req, res, request, auth, body, cors);
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      if (req.method === 'HEAD') {
        // HEAD answers carry no body: the status says it all.
        res.writeHead(error.status, cors).end();
        return;
      }
      const details = Object.entries(error.details)
        .map(([tag, value]) => `<${tag}>${escapeXml(value)}</${tag}>`)
        .join('');
      sendXml(
        res,
        error.status,
        `<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message>${details}<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`,
        cors,
      );
    }
  }

  const server = await listen(handle, options);
  return { endpoint: server.url, close: () => server.close(), objectCount: (bucket) => buckets.get(bucket)?.objects.size ?? 0 };
}
