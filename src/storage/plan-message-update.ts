/**
 * Given what is stored of some messages and the reports just added to them, works out each
 * message's new state, from the deciding report of each of its parts. Pure: storage writes the plan.
 */
import type { InterpretedReport } from '../meaning/interpret-report.js';
import { decidersByPart } from '../meaning/deciding-report.js';
import { messageState } from '../meaning/message-state.js';
import type { ReportStatus } from '../meaning/result-codes.js';
import type { MessageRow, ReportRow } from './tables.js';

/** A report that has just been stored, with its arrival number. */
export interface FreshReport {
  readonly seq: number;
  readonly receivedAt: Date;
  readonly report: InterpretedReport;
}

/** The columns of a stored report that decide its part, read back for a message stored already. */
export const DECIDING_COLUMNS = [
  'message_id',
  'part',
  'seq',
  'status',
  'final',
  'report_timestamp',
  'result_code',
  'result_description',
  'operator',
] as const satisfies ReadonlyArray<keyof ReportRow>;

export type DecidingFields = Pick<ReportRow, (typeof DECIDING_COLUMNS)[number]>;

export interface Decider {
  readonly part: number | null;
  readonly seq: number;
  readonly status: ReportStatus;
  readonly final: boolean;
  readonly timestamp: Date | null;
  readonly resultCode: number | null;
  readonly resultDescription: string;
  readonly operator: string | null;
}

/** What a report adds to its message's row besides its part's decider. */
interface MessageFacts {
  readonly seq: number;
  readonly receivedAt: Date;
  readonly segments: number | null;
  readonly refId: string | null;
  readonly source: string | null;
  readonly destination: string | null;
}

/** The columns of a stored report that its message's row is worked out from. */
export type MessageFactFields = DecidingFields & Pick<ReportRow, 'segments' | 'ref_id' | 'source' | 'destination' | 'received_at'>;

/**
 * A message's row worked out from all its stored reports, as the writes built it report by report:
 * the same rules over the same reports in the order of their seqs.
 */
export function messageRowFromReports(messageId: string, reports: readonly MessageFactFields[]): MessageRow {
  const sorted = [...reports].sort((a, b) => a.seq - b.seq);
  const facts = sorted.map((row) => ({
    seq: row.seq,
    receivedAt: row.received_at,
    segments: row.segments,
    refId: row.ref_id,
    source: row.source,
    destination: row.destination,
  }));
  return nextMessageRow(messageId, undefined, decidersByPart(sorted.map(deciderFromRow)), facts);
}

/**
 * The new row of each message that `fresh` reports touch. `storedReports` are the fields that
 * decide a part, of every report stored before of those messages: with the fresh ones, they give
 * each part its deciding report.
 */
export function planMessageUpdates(
  stored: ReadonlyMap<string, MessageRow>,
  storedReports: readonly DecidingFields[],
  fresh: readonly FreshReport[],
): MessageRow[] {
  const storedByMessage = groupBy(storedReports, (row) => row.message_id);
  const freshByMessage = groupBy(fresh, (item) => item.report.messageId);
  const messages: MessageRow[] = [];
  for (const [messageId, reports] of freshByMessage) {
    const sorted = [...reports].sort((a, b) => a.seq - b.seq);
    const deciders = decidersByPart([...(storedByMessage.get(messageId) ?? []).map(deciderFromRow), ...sorted.map(deciderFromReport)]);
    messages.push(nextMessageRow(messageId, stored.get(messageId), deciders, sorted.map(factsFromReport)));
  }
  return messages;
}

function nextMessageRow(
  messageId: string,
  previous: MessageRow | undefined,
  deciders: ReadonlyMap<number | null, Decider>,
  factsInOrder: readonly MessageFacts[],
): MessageRow {
  let segments = previous?.segments_reported ?? null;
  let refId = previous?.ref_id ?? null;
  let source = previous?.source ?? null;
  let destination = previous?.destination ?? null;
  let first = previous?.first_report_at ?? null;
  let last = previous?.last_report_at ?? null;
  let lastSeq = previous?.last_seq ?? 0;
  for (const facts of factsInOrder) {
    const { receivedAt, seq } = facts;
    if (facts.segments !== null) segments = Math.max(segments ?? 0, facts.segments);
    refId = facts.refId ?? refId;
    source = facts.source ?? source;
    destination = facts.destination ?? destination;
    if (first === null || receivedAt < first) first = receivedAt;
    if (last === null || receivedAt > last) last = receivedAt;
    lastSeq = Math.max(lastSeq, seq);
  }

  const parts = new Map<number, Decider>();
  for (const [part, decider] of deciders) if (part !== null) parts.set(part, decider);
  const state = messageState({ segments, parts, whole: deciders.get(null) ?? null });
  return {
    message_id: messageId,
    ref_id: refId,
    status: state.status,
    final: state.final,
    segments_reported: segments,
    total: state.segments.total,
    delivered: state.segments.delivered,
    failed: state.segments.failed,
    unknown: state.segments.unknown,
    pending: state.segments.pending,
    result_code: state.latest?.resultCode ?? null,
    result_description: state.latest?.resultDescription ?? null,
    operator: state.latest?.operator ?? null,
    source,
    destination,
    first_report_at: first,
    last_report_at: last,
    last_seq: lastSeq,
  };
}

function factsFromReport({ seq, receivedAt, report }: FreshReport): MessageFacts {
  return { seq, receivedAt, segments: report.segments, refId: report.refId, source: report.source, destination: report.destination };
}

function deciderFromReport({ seq, report }: FreshReport): Decider {
  return {
    part: report.part,
    seq,
    status: report.status,
    final: report.final,
    timestamp: report.timestamp,
    resultCode: report.resultCode,
    resultDescription: report.resultDescription,
    operator: report.operator,
  };
}

function deciderFromRow(row: DecidingFields): Decider {
  return {
    part: row.part,
    seq: row.seq,
    status: row.status as ReportStatus,
    final: row.final,
    timestamp: row.report_timestamp,
    resultCode: row.result_code,
    resultDescription: row.result_description,
    operator: row.operator,
  };
}

function groupBy<T, K>(items: Iterable<T>, keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}
