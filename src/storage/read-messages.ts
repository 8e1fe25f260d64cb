/** Reads messages back for the query API: the message row, each part's deciding report, every report. */
import type { Kysely } from 'kysely';
import { parseReportId } from '../meaning/report-id.js';
import type { MessageRow, ReportRow, Tables } from './tables.js';

export interface StoredMessage {
  readonly message: MessageRow;
  /** Deciding reports by part; part null is the deciding whole-message report. */
  readonly deciders: ReadonlyArray<{ readonly part: number | null; readonly report: ReportRow }>;
  /** Every report of the message, oldest first. */
  readonly reports: readonly ReportRow[];
}

/** A message by its id, or by the id of one of its parts (`abc$1`). */
export async function findMessage(db: Kysely<Tables>, id: string): Promise<StoredMessage | undefined> {
  let row = await db.selectFrom('messages').selectAll().where('message_id', '=', id).executeTakeFirst();
  if (row === undefined) {
    const target = parseReportId(id);
    if (!target.ok || target.target.part === null) return undefined;
    row = await db.selectFrom('messages').selectAll().where('message_id', '=', target.target.messageId).executeTakeFirst();
  }
  if (row?.last_seq == null) return undefined;
  const [message] = await withDetails(db, [row]);
  return message;
}

export interface MessageFilter {
  readonly refId?: string;
  readonly status?: string;
  /** Messages whose newest report was received at or after this time. */
  readonly since?: Date;
  /** Messages whose newest report was received before this time. */
  readonly until?: Date;
  /** Keyset cursor: only messages whose newest report came before report number `beforeSeq`. */
  readonly beforeSeq?: number;
  readonly limit: number;
}

export interface MessagePage {
  readonly messages: StoredMessage[];
  /** Where the next page starts, or null on the last page. */
  readonly nextBeforeSeq: number | null;
}

/** Messages newest report first, a page at a time; each page costs the same however deep it is. */
export async function listMessages(db: Kysely<Tables>, filter: MessageFilter): Promise<MessagePage> {
  let query = db.selectFrom('messages').selectAll().where('last_seq', 'is not', null);
  if (filter.refId !== undefined) query = query.where('ref_id', '=', filter.refId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.since !== undefined) query = query.where('last_report_at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('last_report_at', '<', filter.until);
  if (filter.beforeSeq !== undefined) query = query.where('last_seq', '<', filter.beforeSeq);
  const rows = await query.orderBy('last_seq', 'desc').limit(filter.limit + 1).execute();
  const page = rows.slice(0, filter.limit);
  const lastOfPage = page.at(-1);
  return {
    messages: await withDetails(db, page),
    nextBeforeSeq: rows.length > filter.limit && lastOfPage?.last_seq != null ? lastOfPage.last_seq : null,
  };
}

async function withDetails(db: Kysely<Tables>, rows: readonly MessageRow[]): Promise<StoredMessage[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.message_id);
  const [deciders, reports] = await Promise.all([
    db
      .selectFrom('parts')
      .innerJoin('reports', 'reports.seq', 'parts.report_seq')
      .selectAll('reports')
      .select('parts.part as decided_part')
      .where('parts.message_id', 'in', ids)
      .execute(),
    db.selectFrom('reports').selectAll().where('message_id', 'in', ids).orderBy('seq').execute(),
  ]);
  return rows.map((message) => ({
    message,
    deciders: deciders
      .filter((row) => row.message_id === message.message_id)
      .map(({ decided_part, ...report }) => ({ part: decided_part, report })),
    reports: reports.filter((row) => row.message_id === message.message_id),
  }));
}
