/**
 * Messages counted by status, for a `refId`, a number sent to, or a window of time: what happened
 * to an order of thousands of messages, in one answer instead of pages of them, and why those that
 * failed did. Counted in the database, a group per status and result, along the index the listing
 * reads for the same filter.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { MessageStatus, SegmentCounts } from '../meaning/message-state.js';
import { MESSAGE_STATUSES } from '../meaning/message-state.js';
import type { MessageReader } from './read-messages.js';
import { destinationIs } from './read-messages.js';
import type { Tables } from './tables.js';

export interface SummaryFilter {
  readonly refId?: string;
  /** Messages sent to this number, its leading `+` or none. */
  readonly destination?: string;
  /** Messages whose newest report was received at or after this time. */
  readonly since?: Date;
  /** Messages whose newest report was received before this time. */
  readonly until?: Date;
}

export interface MessageSummary {
  readonly messages: number;
  /** Messages every part of which has a final deciding report. */
  readonly final: number;
  readonly statuses: Readonly<Record<MessageStatus, number>>;
  /** The messages' parts, counted by their state, as each message counts its own. */
  readonly segments: SegmentCounts;
  /** The messages by status and the result each shows (its `resultCode`), most messages first. */
  readonly results: ResultCount[];
}

export interface ResultCount {
  readonly status: MessageStatus;
  /** Null for a message told of by SMPP receipts, which have no result code. */
  readonly resultCode: number | null;
  readonly resultDescription: string | null;
  readonly messages: number;
}

/** One status and result's group, as the database counts it. */
interface ResultGroup extends SegmentCounts {
  readonly status: string;
  readonly result_code: number | null;
  readonly result_description: string | null;
  readonly messages: number;
  readonly final: number;
}

export async function summarizeMessages({ db, readRows }: MessageReader, filter: SummaryFilter): Promise<MessageSummary> {
  return summaryOfGroups(await readRows(summarizeMessagesQuery(db, filter)));
}

/** The same messages the listing would page through for this filter (a message with no report is in neither). */
export function summarizeMessagesQuery(db: Kysely<Tables>, filter: SummaryFilter) {
  let query = db.selectFrom('messages').where('last_report_at', 'is not', null);
  if (filter.refId !== undefined) query = query.where('ref_id', '=', filter.refId);
  if (filter.destination !== undefined) query = query.where(destinationIs(filter.destination));
  if (filter.since !== undefined) query = query.where('last_report_at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('last_report_at', '<', filter.until);
  return query
    .select([
      'status',
      'result_code',
      'result_description',
      sql<number>`count(*)`.as('messages'),
      sql<number>`count(*) FILTER (WHERE final)`.as('final'),
      sql<number>`sum(total)`.as('total'),
      sql<number>`sum(delivered)`.as('delivered'),
      sql<number>`sum(failed)`.as('failed'),
      sql<number>`sum(unknown)`.as('unknown'),
      sql<number>`sum(pending)`.as('pending'),
    ])
    .groupBy(['status', 'result_code', 'result_description'])
    .compile();
}

/** Adds the groups up; every status is named, those without messages with 0. */
function summaryOfGroups(groups: readonly ResultGroup[]): MessageSummary {
  const statuses = Object.fromEntries(MESSAGE_STATUSES.map((status) => [status, 0])) as Record<MessageStatus, number>;
  const segments: SegmentCounts = { total: 0, delivered: 0, failed: 0, unknown: 0, pending: 0 };
  const results: ResultCount[] = [];
  let messages = 0;
  let final = 0;
  for (const group of groups) {
    const status = MESSAGE_STATUSES.find((known) => known === group.status);
    if (status !== undefined) {
      statuses[status] += group.messages;
      results.push({ status, resultCode: group.result_code, resultDescription: group.result_description, messages: group.messages });
    }
    messages += group.messages;
    final += group.final;
    for (const key of Object.keys(segments) as Array<keyof SegmentCounts>) segments[key] += group[key];
  }
  return { messages, final, statuses, segments, results: results.sort(inResultOrder) };
}

/**
 * Most messages first; ties in the order statuses are listed, then by result code (none last), then
 * by description (an SMPP receipt's state words share no code): the same counts read the same.
 */
function inResultOrder(a: ResultCount, b: ResultCount): number {
  return b.messages - a.messages
    || MESSAGE_STATUSES.indexOf(a.status) - MESSAGE_STATUSES.indexOf(b.status)
    || (a.resultCode ?? Number.MAX_SAFE_INTEGER) - (b.resultCode ?? Number.MAX_SAFE_INTEGER)
    || (a.resultDescription ?? '').localeCompare(b.resultDescription ?? '');
}
