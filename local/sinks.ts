/**
 * EventBridge PutEvents (AWS JSON 1.1, `AWSEvents.*`) and SNS Publish (AWS query protocol:
 * form-encoded requests, XML answers) on one local port, validating entries as the services
 * do and recording what was accepted so apps and tests can see events and pushes locally.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, escapeXml, listen, readBody, sendJson, sendXml } from './http-util';

export interface LocalSinks {
  /** EventBridge and SNS share one port: requests tell themselves apart by protocol. */
  readonly eventsEndpoint: string;
  readonly snsEndpoint: string;
  events(): unknown[];
  pushes(): unknown[];
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const MAX_EVENT_ENTRIES = 10;
const MAX_EVENTS_BYTES = 256 * 1024;
const MAX_SNS_MESSAGE_BYTES = 256 * 1024;
const MAX_SNS_BATCH_ENTRIES = 10;
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
const SNS_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

/** A request the service refuses as a whole. */
class SinkError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface PutEventsEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Time?: unknown;
  Resources?: unknown;
  EventBusName?: unknown;
}

/** The size EventBridge counts for an entry against the PutEvents limit. */
function entrySize(entry: PutEventsEntry): number {
  const text = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources.reduce((sum: number, r: unknown) => sum + text(r), 0) : 0;
  return (entry.Time !== undefined ? 14 : 0) + text(entry.Source) + text(entry.DetailType) + text(entry.Detail) + resources;
}

/** Why EventBridge would refuse this one entry, or undefined when it accepts it. */
function entryProblem(entry: PutEventsEntry): { ErrorCode: string; ErrorMessage: string } | undefined {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry[field] !== 'string' || entry[field] === '') {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
    }
  }
  try {
    const detail = JSON.parse(entry.Detail as string) as unknown;
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) throw new Error('not an object');
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  return undefined;
}

/** The keys under `prefix` (e.g. `PublishBatchRequestEntries.member.1.`), prefix removed. */
function subForm(form: Map<string, string>, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of form) if (key.startsWith(prefix)) out.set(key.slice(prefix.length), value);
  return out;
}

/** Numbered members `<prefix>1.…`, `<prefix>2.…` in order, each as its own sub-form. */
function members(form: Map<string, string>, prefix: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  for (let i = 1; ; i++) {
    const member = subForm(form, `${prefix}${i}.`);
    if (member.size === 0) return out;
    out.push(member);
  }
}

/** `MessageAttributes.entry.N.{Name, Value.DataType, Value.StringValue | Value.BinaryValue}` as a map. */
function messageAttributes(form: Map<string, string>): Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> {
  const out: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> = {};
  for (const entry of members(form, 'MessageAttributes.entry.')) {
    const name = entry.get('Name');
    const dataType = entry.get('Value.DataType');
    if (!name || !dataType) throw new SinkError(400, 'ParameterValueInvalid', 'The message attribute needs a name and a data type.');
    if (!/^(String|String\.Array|Number|Binary)(\..+)?$/.test(dataType)) throw new SinkError(400, 'ParameterValueInvalid', `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    const stringValue = entry.get('Value.StringValue');
    const binaryValue = entry.get('Value.BinaryValue');
    if (stringValue === undefined && binaryValue === undefined) throw new SinkError(400, 'ParameterValueInvalid', `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
    out[name] = { DataType: dataType, ...(stringValue !== undefined ? { StringValue: stringValue } : {}), ...(binaryValue !== undefined ? { BinaryValue: binaryValue } : {}) };
  }
  return out;
}

export async function startLocalSinks(options: { host?: string; port?: number; now?: () => number } = {}): Promise<LocalSinks> {
  const now = options.now ?? Date.now;
  const events: unknown[] = [];
  const pushes: unknown[] = [];

  function putEvents(data: { Entries?: unknown }) {
    const entries = Array.isArray(data.Entries) ? (data.Entries as PutEventsEntry[]) : [];
    if (entries.length === 0 || entries.length > MAX_EVENT_ENTRIES) {
      throw new SinkError(400, 'ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_EVENT_ENTRIES} and greater than or equal to 1`);
    }
    if (entries.reduce((sum, e) => sum + entrySize(e), 0) > MAX_EVENTS_BYTES) throw new SinkError(400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
    const answers = entries.map((entry) => {
      const problem = entryProblem(entry);
      if (problem) return problem;
      const EventId = randomUUID();
      // The SDK sends Time as epoch seconds; recorded as ISO-8601 like every time the layer writes.
      const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date(now());
      events.push({ ...entry, EventBusName: entry.EventBusName ?? 'default', EventId, Time: time.toISOString() });
      return { EventId };
    });
    return { FailedEntryCount: answers.filter((a) => 'ErrorCode' in a).length, Entries: answers };
  }

  /** Validates one Publish (or PublishBatch entry) and records it; answers its MessageId. */
  function publish(form: Map<string, string>, target: { TopicArn?: string; TargetArn?: string; PhoneNumber?: string }): string {
    if (!target.TopicArn && !target.TargetArn && !target.PhoneNumber) throw new SinkError(400, 'InvalidParameter', 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
    if (target.TopicArn !== undefined && !TOPIC_ARN.test(target.TopicArn)) throw new SinkError(400, 'InvalidParameter', 'Invalid parameter: TopicArn');
    const message = form.get('Message');
    if (!message) throw new SinkError(400, 'InvalidParameter', 'Invalid parameter: Empty message');
    if (Buffer.byteLength(message) > MAX_SNS_MESSAGE_BYTES) throw new SinkError(400, 'InvalidParameter', 'Invalid parameter: Message too long');
    const structure = form.get('MessageStructure');
    if (structure !== undefined) {
      if (structure !== 'json') throw new SinkError(400, 'InvalidParameter', 'Invalid parameter: MessageStructure');
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        throw new SinkError(400, 'InvalidParameter', 'Invalid parameter: Message Structure - JSON message body failed to parse');
      }
      if (typeof parsed !== 'object' || parsed === null || typeof (parsed as Record<string, unknown>).default !== 'string') {
        throw new SinkError(400, 'InvalidParameter', 'Invalid parameter: Message Structure - No default entry in JSON message body');
      }
    }
    const attributes = messageAttributes(form);
    const MessageId = randomUUID();
    const optional = Object.fromEntries(
      (['Subject', 'MessageStructure', 'MessageGroupId', 'MessageDeduplicationId'] as const).flatMap((name) => (form.has(name) ? [[name, form.get(name)]] : [])),
    );
    pushes.push({
      MessageId,
      ...Object.fromEntries(Object.entries(target).filter(([, v]) => v !== undefined)),
      ...optional,
      Message: message,
      ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
      Time: new Date(now()).toISOString(),
    });
    return MessageId;
  }

  /** One SNS action: its result element's inner XML. */
  function snsAction(action: string, form: Map<string, string>): string {
    const topicArn = form.get('TopicArn');
    switch (action) {
      case 'Publish':
        return `<MessageId>${publish(form, { TopicArn: topicArn, TargetArn: form.get('TargetArn'), PhoneNumber: form.get('PhoneNumber') })}</MessageId>`;
      case 'PublishBatch': {
        const entries = members(form, 'PublishBatchRequestEntries.member.');
        if (entries.length === 0) throw new SinkError(400, 'EmptyBatchRequest', 'The batch request does not contain any entries.');
        if (entries.length > MAX_SNS_BATCH_ENTRIES) throw new SinkError(400, 'TooManyEntriesInBatchRequest', `The batch request contains more entries than permissible (${MAX_SNS_BATCH_ENTRIES}).`);
        const ids = entries.map((e) => e.get('Id') ?? '');
        if (ids.some((id) => !/^[A-Za-z0-9_-]{1,80}$/.test(id))) throw new SinkError(400, 'InvalidBatchEntryId', 'The Id of a batch entry in a batch request does not abide by the specification.');
        if (new Set(ids).size !== ids.length) throw new SinkError(400, 'BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
        if (entries.reduce((sum, e) => sum + Buffer.byteLength(e.get('Message') ?? ''), 0) > MAX_SNS_MESSAGE_BYTES) {
          throw new SinkError(400, 'BatchRequestTooLong', 'The length of all the messages put together is more than the limit.');
        }
        const successful: string[] = [];
        const failed: string[] = [];
        entries.forEach((entry, i) => {
          const id = escapeXml(ids[i] as string);
          try {
            successful.push(`<member><Id>${id}</Id><MessageId>${publish(entry, { TopicArn: topicArn })}</MessageId></member>`);
          } catch (error) {
            if (!(error instanceof SinkError)) throw error;
            failed.push(`<member><Id>${id}</Id><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message><SenderFault>true</SenderFault></member>`);
          }
        });
        return `<Successful>${successful.join('')}</Successful><Failed>${failed.join('')}</Failed>`;
      }
      case 'CreateTopic': {
        const name = form.get('Name') ?? '';
        if (!/^[A-Za-z0-9_-]{1,256}$/.test(name)) throw new SinkError(400, 'InvalidParameter', 'Invalid parameter: Topic Name');
        return `<TopicArn>arn:aws:sns:${REGION}:${ACCOUNT}:${name}</TopicArn>`;
      }
      default:
        throw new SinkError(400, 'InvalidAction', `The action ${action || '(none)'} is not served by the local SNS endpoint.`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const isEvents = target !== '';
    const requestId = randomUUID();
    try {
      let body: Buffer;
      try {
        body = await readBody(req, MAX_REQUEST_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLargeError) throw new SinkError(413, isEvents ? 'ValidationException' : 'RequestEntityTooLarge', error.message);
        throw error;
      }
      if (isEvents) {
        if (target !== 'AWSEvents.PutEvents') throw new SinkError(400, 'UnknownOperationException', `The local EventBridge endpoint serves PutEvents only, not ${target}.`);
        let data: unknown;
        try {
          data = JSON.parse(body.toString('utf8') || '{}');
        } catch {
          throw new SinkError(400, 'SerializationException', 'The request body is not valid JSON.');
        }
        sendJson(res, 200, putEvents((data ?? {}) as { Entries?: unknown }), { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId });
        return;
      }
      const form = new Map(new URLSearchParams(body.toString('utf8')));
      const action = form.get('Action') ?? '';
      const result = snsAction(action, form);
      sendXml(
        res,
        200,
        `<${action}Response xmlns="${SNS_NAMESPACE}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
        { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      );
    } catch (error) {
      if (!(error instanceof SinkError)) throw error;
      if (isEvents) {
        sendJson(res, error.status, { __type: error.code, message: error.message }, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId });
      } else {
        sendXml(
          res,
          error.status,
          `<ErrorResponse xmlns="${SNS_NAMESPACE}"><Error><Type>Sender</Type><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
          { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        );
      }
    }
  }

  const server = await listen(handle, options);
  return {
    eventsEndpoint: server.url,
    snsEndpoint: server.url,
    events: () => [...events],
    pushes: () => [...pushes],
    close: () => server.close(),
  };
}
