/**
 * Response schemas of the query API: they let Fastify serialise the JSON fast, and are what
 * `GET /openapi.json` documents.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { ReportFormat } from '../intake/read-report.js';
import { MESSAGE_STATUSES } from '../meaning/message-state.js';
import { BILLINGS, DELIVERIES, REPORT_STATUSES } from '../meaning/result-codes.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Time = Type.String({ description: 'RFC 3339, UTC' });

/** A string that is one of `values`: so documented, and serialised as any string is (no check per answer). */
const OneOf = (values: readonly string[], description: string) => Type.Unsafe<string>({ type: 'string', enum: [...values], description });

const FORMATS = ['json', 'xml', 'form', 'query', 'smpp'] as const satisfies ReadonlyArray<ReportFormat | 'smpp'>;
const ReportStatus = OneOf(REPORT_STATUSES, "from the result code's delivery state, or an SMPP receipt's stat");

export const ErrorSchema = Type.Object({ error: Type.String(), message: Type.String() });

/** Only on SMPP receipts, which have no result code. */
const ReceiptFields = {
  stat: Type.Optional(Nullable(Type.String())),
  err: Type.Optional(Nullable(Type.String())),
  errDescription: Type.Optional(Nullable(Type.String())),
};

export const PartSchema = Type.Object({
  part: Type.Integer({ description: 'the part\'s ordinal, from 0 (report id `abc$1` is part 1 of message `abc`)' }),
  status: ReportStatus,
  final: Type.Boolean(),
  resultCode: Nullable(Type.Integer({ description: 'null for an SMPP receipt' })),
  resultDescription: Type.String(),
  delivery: OneOf(DELIVERIES, 'the result-code table\'s delivery state'),
  billing: OneOf(BILLINGS, 'the result-code table\'s billing state'),
  operator: Nullable(Type.String()),
  operatorResultCode: Nullable(Type.String()),
  sentTimestamp: Nullable(Time),
  timestamp: Nullable(Time),
  receivedAt: Time,
  ...ReceiptFields,
});

export const ReportSchema = Type.Object({
  id: Type.String({ description: 'the report\'s id as it arrived' }),
  part: Nullable(Type.Integer({ description: 'null for a report of the whole message' })),
  resultCode: Nullable(Type.Integer()),
  status: ReportStatus,
  final: Type.Boolean(),
  format: OneOf(FORMATS, 'how the report arrived'),
  gate: Nullable(Type.String({ description: 'the {gate} of /dlr/{gate} it came to' })),
  receivedAt: Time,
  ...ReceiptFields,
  payload: Type.Unknown({ description: 'the report as it arrived, or the object XML, key/value pairs or an SMPP receipt were read into' }),
});

const SegmentsSchema = Type.Object({
  total: Type.Integer(),
  delivered: Type.Integer(),
  failed: Type.Integer(),
  unknown: Type.Integer(),
  pending: Type.Integer(),
});

export const MessageSchema = Type.Object({
  messageId: Type.String(),
  refId: Nullable(Type.String({ description: 'the refId the message was sent with' })),
  status: OneOf(MESSAGE_STATUSES, 'from its parts\' states'),
  final: Type.Boolean({ description: 'every part\'s deciding report is final' }),
  resultCode: Nullable(Type.Integer()),
  resultDescription: Nullable(Type.String()),
  operator: Nullable(Type.String()),
  source: Nullable(Type.String()),
  destination: Nullable(Type.String()),
  segments: SegmentsSchema,
  parts: Type.Array(PartSchema, { description: 'each part with a deciding report, in part order' }),
  reports: Type.Array(ReportSchema, { description: 'every stored report of the message, oldest first' }),
  firstReportAt: Nullable(Time),
  lastReportAt: Nullable(Time),
});

export const MessageListSchema = Type.Object({
  messages: Type.Array(MessageSchema, { description: 'newest report first' }),
  nextCursor: Nullable(Type.String({ description: 'the next page\'s cursor; null on the last page' })),
});

const WindowQuery = {
  since: Type.Optional(Type.String({ description: 'RFC 3339 date-time, or a date (its midnight, UTC); the newest report received at or after it' })),
  until: Type.Optional(Type.String({ description: 'as since; the newest report received before it' })),
};

const DestinationQuery = {
  destination: Type.Optional(
    Type.String({ description: 'the number the messages were sent to, with its country code: +4799999999 and 4799999999 name the same, as do +47 999 99 999 and +47-999-99-999' }),
  ),
};

export const MessageListQuery = Type.Object({
  refId: Type.Optional(Type.String()),
  ...DestinationQuery,
  // Not an enum: a query string is validated against its schema, and parseListQuery names the problem itself.
  status: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String())], {
      description: `one of ${MESSAGE_STATUSES.join(', ')}, or several joined by commas (failed,unknown) or given again (status=failed&status=unknown): messages of any of them`,
    }),
  ),
  resultCode: Type.Optional(Type.String({ description: 'messages showing this resultCode, as GET /summary counts them in its results' })),
  ...WindowQuery,
  limit: Type.Optional(Type.String({ description: 'messages a page: 50 unless given, at most 500' })),
  cursor: Type.Optional(Type.String({ description: 'the nextCursor of the page before' })),
});

export const RejectedListSchema = Type.Object({
  rejected: Type.Array(
    Type.Object({
      receivedAt: Time,
      times: Type.Integer({ description: 'how many times the same request (method, path, content type, reason and body) had arrived with this try, counted along the tries kept' }),
      firstReceivedAt: Type.String({ description: 'RFC 3339, UTC: when the same request first arrived; receivedAt on its first try' }),
      remoteAddress: Nullable(Type.String()),
      method: Type.String(),
      path: Type.String(),
      contentType: Nullable(Type.String()),
      reason: Type.String(),
      body: Type.String(),
      bodyBytes: Nullable(Type.Integer()),
    }),
  ),
});

export const RejectedQuerySchema = Type.Object({
  limit: Type.Optional(Type.String({ description: 'requests a page: 50 unless given, at most 500' })),
  cursor: Type.Optional(Type.String({ description: 'as named by the Link header of the page before' })),
});

export const SummaryQuerySchema = Type.Object({
  refId: Type.Optional(Type.String({ description: 'the messages sent with this refId' })),
  ...DestinationQuery,
  ...WindowQuery,
});

export const SummarySchema = Type.Object({
  refId: Nullable(Type.String()),
  destination: Nullable(Type.String({ description: 'the number given, as read: without its spaces or dashes' })),
  since: Nullable(Time),
  until: Nullable(Time),
  messages: Type.Integer({ description: 'messages with a report, whose newest report falls in the window' }),
  final: Type.Integer({ description: 'of those, the messages every part of which has a final deciding report' }),
  statuses: Type.Object(
    Object.fromEntries(MESSAGE_STATUSES.map((status) => [status, Type.Integer()])),
    { description: 'the messages by status, every status named' },
  ),
  segments: Type.Object(SegmentsSchema.properties, { description: 'their parts, counted by their state' }),
  results: Type.Array(
    Type.Object({
      status: OneOf(MESSAGE_STATUSES, 'the messages\' status'),
      resultCode: Nullable(Type.Integer({ description: 'the resultCode the messages show; null for SMPP receipts, and for messages with no deciding report yet' })),
      resultDescription: Nullable(Type.String()),
      messages: Type.Integer(),
    }),
    { description: 'the messages by status and by the result each shows, most messages first' },
  ),
});
