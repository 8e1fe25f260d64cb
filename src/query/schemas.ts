/** Response schemas of the query API: they document the JSON and let Fastify serialise it fast. */
import { Type } from '@fastify/type-provider-typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Time = Type.String({ description: 'RFC 3339, UTC' });

export const ErrorSchema = Type.Object({ error: Type.String(), message: Type.String() });

/** Only on SMPP receipts, which have no result code. */
const ReceiptFields = {
  stat: Type.Optional(Nullable(Type.String())),
  err: Type.Optional(Nullable(Type.String())),
  errDescription: Type.Optional(Nullable(Type.String())),
};

export const PartSchema = Type.Object({
  part: Type.Integer(),
  status: Type.String(),
  final: Type.Boolean(),
  resultCode: Nullable(Type.Integer()),
  resultDescription: Type.String(),
  delivery: Type.String(),
  billing: Type.String(),
  operator: Nullable(Type.String()),
  operatorResultCode: Nullable(Type.String()),
  sentTimestamp: Nullable(Time),
  timestamp: Nullable(Time),
  receivedAt: Time,
  ...ReceiptFields,
});

export const ReportSchema = Type.Object({
  id: Type.String(),
  part: Nullable(Type.Integer()),
  resultCode: Nullable(Type.Integer()),
  status: Type.String(),
  final: Type.Boolean(),
  format: Type.String(),
  gate: Nullable(Type.String()),
  receivedAt: Time,
  ...ReceiptFields,
  payload: Type.Unknown(),
});

export const MessageSchema = Type.Object({
  messageId: Type.String(),
  refId: Nullable(Type.String()),
  status: Type.String(),
  final: Type.Boolean(),
  resultCode: Nullable(Type.Integer()),
  resultDescription: Nullable(Type.String()),
  operator: Nullable(Type.String()),
  source: Nullable(Type.String()),
  destination: Nullable(Type.String()),
  segments: Type.Object({
    total: Type.Integer(),
    delivered: Type.Integer(),
    failed: Type.Integer(),
    unknown: Type.Integer(),
    pending: Type.Integer(),
  }),
  parts: Type.Array(PartSchema),
  reports: Type.Array(ReportSchema),
  firstReportAt: Nullable(Time),
  lastReportAt: Nullable(Time),
});

export const MessageListSchema = Type.Object({
  messages: Type.Array(MessageSchema),
  nextCursor: Nullable(Type.String()),
});

export const MessageListQuery = Type.Object({
  refId: Type.Optional(Type.String()),
  status: Type.Optional(Type.String()),
  since: Type.Optional(Type.String()),
  until: Type.Optional(Type.String()),
  limit: Type.Optional(Type.String()),
  cursor: Type.Optional(Type.String()),
});

export const RejectedListSchema = Type.Object({
  rejected: Type.Array(
    Type.Object({
      receivedAt: Time,
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

export const RejectedQuerySchema = Type.Object({ limit: Type.Optional(Type.String()), cursor: Type.Optional(Type.String()) });
