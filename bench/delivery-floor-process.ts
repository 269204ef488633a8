/**
 * The two processes of the delivery floor (delivery-floor.ts), forked with IPC:
 * - `server`: a bare HTTP server answering 200 to every POST; sends `{port}` once
 *   listening, and answers `'cpu'` with its `process.cpuUsage()`.
 * - `poster <port> <warm-up posts> <posts> [fanout bundle]`: warms up, sends `'warm'`,
 *   waits for `'go'`, then makes the posts and sends the `{cpuMicros}` it spent doing so.
 *   Without a bundle: plain keep-alive HTTP POSTs, `POST_CONCURRENCY` at a time (no
 *   signing, no SDK). With the Fanout bundle as deployed: its handler, invoked one fan-out
 *   message after another as one Lambda environment is, posts them (the SDK's signed
 *   PostToConnection); the parent passes the function's environment.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { Agent, createServer, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { settleWithLimit } from '../shared/delivery/concurrency';
import { MAX_POSTS_PER_MESSAGE, type FanoutMessage } from '../shared/delivery/fanout-queue';
import type { DeltaFrame } from '../shared/delivery/frames';
import { POST_CONCURRENCY } from '../shared/delivery/post';

const [role, port, warmUpPosts, posts, fanoutBundle] = process.argv.slice(2);

function send(message: unknown): void {
  process.send?.(message as object);
}

function serve(): void {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-length': '0' }).end());
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    send({ port: typeof address === 'object' && address ? address.port : 0 });
  });
  process.on('message', () => send(process.cpuUsage()));
  process.on('disconnect', () => process.exit(0));
}

const frame: DeltaFrame = { type: 'delta', stream: 'channel:01JBENCHDELIVERYFLOOR00000', seq: 1, id: '01JBENCHDELIVERYFLOOR00001', op: 'created', rev: 1, change_seq: 1 };

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** Posts to every connection id, as plain HTTP or through the Fanout handler. */
type Poster = (connectionIds: string[]) => Promise<void>;

function barePoster(target: number): Poster {
  const data = Buffer.from(JSON.stringify(frame));
  // As the SDK's Node handler: connections kept alive, at most 50 per host.
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  const post = (connectionId: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: target, method: 'POST', path: `/@connections/${encodeURIComponent(connectionId)}`, agent, headers: { 'content-type': 'application/json', 'content-length': data.length } },
        (res) => res.resume().on('end', resolve),
      );
      req.on('error', reject);
      req.end(data);
    });
  return async (connectionIds) => {
    const failed = (await settleWithLimit(connectionIds, POST_CONCURRENCY, post)).filter((r) => r.status === 'rejected');
    if (failed.length > 0) throw new Error(`${failed.length} bare posts failed`);
  };
}

async function fanoutPoster(bundle: string): Promise<Poster> {
  const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: Handler };
  let invocation = 0;
  const context = () =>
    ({ functionName: 'bench-Fanout', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench-Fanout', memoryLimitInMB: '256', awsRequestId: `bench-${++invocation}`, logGroupName: '/aws/lambda/bench-Fanout', logStreamName: 'bench', callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => 30_000 }) as Context;
  return async (connectionIds) => {
    // One message per invocation (the queue's batch size), one invocation at a time (one environment).
    for (let i = 0; i < connectionIds.length; i += MAX_POSTS_PER_MESSAGE) {
      const message: FanoutMessage = { deliveries: [{ frame, connection_ids: connectionIds.slice(i, i + MAX_POSTS_PER_MESSAGE) }] };
      const record = { messageId: `m${i}`, receiptHandle: `r${i}`, body: JSON.stringify(message), attributes: {}, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bench', awsRegion: 'us-east-1' };
      const result = await handler({ Records: [record as unknown as SQSEvent['Records'][number]] }, context());
      if (result.batchItemFailures.length > 0) throw new Error('the Fanout handler reported a failed message');
    }
  };
}

async function measurePosts(poster: Poster, warmUp: number, measured: number): Promise<void> {
  const ids = (batch: string, n: number) => Array.from({ length: n }, (_, i) => `${batch}${i}=`);
  await poster(ids('warm', warmUp));
  const go = new Promise((resolve) => process.once('message', resolve));
  send('warm');
  await go;
  const before = process.cpuUsage();
  await poster(ids('post', measured));
  const cpu = process.cpuUsage(before);
  send({ cpuMicros: cpu.user + cpu.system });
}

if (role === 'server') serve();
else await measurePosts(fanoutBundle ? await fanoutPoster(fanoutBundle) : barePoster(Number(port)), Number(warmUpPosts), Number(posts));
