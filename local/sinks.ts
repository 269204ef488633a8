/**
 * EventBridge PutEvents (JSON 1.1) and SNS Publish (query protocol) endpoints that
 * record what was sent, so apps and tests can see events and pushes locally.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, readBody, sendJson } from './http-util';

export interface LocalSinks {
  readonly eventsEndpoint: string;
  readonly snsEndpoint: string;
  events(): unknown[];
  pushes(): unknown[];
  close(): Promise<void>;
}

export async function startLocalSinks(options: { host?: string; port?: number; now?: () => number } = {}): Promise<LocalSinks> {
  const now = options.now ?? Date.now;
  const events: unknown[] = [];
  const pushes: unknown[] = [];

  async function eventsHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const data = JSON.parse((await readBody(req)).toString('utf8') || '{}') as { Entries?: Record<string, unknown>[] };
    if (target !== 'AWSEvents.PutEvents') return sendJson(res, 400, { __type: 'UnknownOperationException', message: target });
    const entries = (data.Entries ?? []).map((entry) => {
      const id = randomUUID();
      events.push({ ...entry, EventId: id, Time: new Date(now()).toISOString() });
      return { EventId: id };
    });
    sendJson(res, 200, { FailedEntryCount: 0, Entries: entries }, { 'content-type': 'application/x-amz-json-1.1' });
  }

  async function snsHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const action = form.get('Action');
    const xml = (inner: string) => {
      const body = `<${action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
      res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
    };
    if (action === 'Publish') {
      const id = randomUUID();
      pushes.push({ MessageId: id, TopicArn: form.get('TopicArn'), TargetArn: form.get('TargetArn'), Subject: form.get('Subject'), Message: form.get('Message'), Time: new Date(now()).toISOString() });
      return xml(`<MessageId>${id}</MessageId>`);
    }
    if (action === 'CreateTopic') return xml(`<TopicArn>arn:aws:sns:us-east-1:000000000000:${form.get('Name')}</TopicArn>`);
    const body = `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${action} is not served locally</Message></Error></ErrorResponse>`;
    res.writeHead(400, { 'content-type': 'text/xml' }).end(body);
  }

  const eventsServer = await listen(eventsHandler, options);
  const snsServer = await listen(snsHandler, { host: options.host });
  return {
    eventsEndpoint: eventsServer.url,
    snsEndpoint: snsServer.url,
    events: () => [...events],
    pushes: () => [...pushes],
    close: async () => {
      await Promise.all([eventsServer.close(), snsServer.close()]);
    },
  };
}
