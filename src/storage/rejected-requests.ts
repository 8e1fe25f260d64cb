/**
 * Requests intake turned away (400, 413, 415, a wrong path) and `deliver_sm`s not stored as receipts,
 * kept raw so an operator can see what arrived and why.
 */
import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { sql } from 'kysely';
import { withNulShown } from '../lib/nul-shown.js';
import { uuidText } from '../meaning/fingerprint.js';
import type { Database } from './database.js';
import type { RejectedRequestRow } from './tables.js';

/** The raw body is cut at this many bytes. */
export const REJECTED_BODY_LIMIT = 4096;
/** Only the newest rejected requests are kept: a sender retrying a bad report must not fill the disk. */
export const REJECTED_KEPT = 10_000;
const PRUNE_EVERY = 100;
/** The largest size `body_bytes`, an `integer`, holds. */
const LARGEST_KEPT_SIZE = 2_147_483_647;

export interface RejectedRequest {
  readonly receivedAt: Date;
  readonly remoteAddress: string | null;
  readonly method: string;
  readonly path: string;
  readonly contentType: string | null;
  readonly reason: string;
  /** The body as it arrived (a body over the limit is not read: none). */
  readonly body: Buffer;
  /** The body's size in bytes as it arrived; for a body not read, the size its Content-Length gave, if any. */
  readonly bodyBytes: number | null;
}

/**
 * Keeps the request, each try its own entry. The same request arriving again (LINK retries a
 * refused report until it gets a 200) counts on from its newest kept try and keeps its first time.
 *
 * A refused request is kept for inspection and promised to nobody (its sender was answered 400),
 * so its commit waits neither for the disk nor for a synchronous standby: with the standby gone,
 * every refusal waited for good, and ten of them held every connection of the query API. Behind a
 * lock on the table, or on a server whose network went silent, it is given up within the read
 * deadline, for the same reason.
 */
export async function recordRejectedRequest({ db, shortTransaction }: Pick<Database, 'db' | 'shortTransaction'>, request: RejectedRequest): Promise<void> {
  const digest = requestDigest(request);
  const newestTry = db.selectFrom('rejected_requests').where('digest', '=', digest).orderBy('id', 'desc').limit(1);
  await shortTransaction(async (run) => {
    await run(sql`SET LOCAL synchronous_commit = off`.compile(db));
    const [kept] = await run(
      db
        .insertInto('rejected_requests')
        .values({
          received_at: request.receivedAt,
          remote_address: request.remoteAddress,
          method: request.method,
          path: withNulShown(request.path),
          content_type: request.contentType,
          // A reason may quote the refused value, NUL characters and all.
          reason: withNulShown(request.reason),
          body: bodyText(request.body),
          // A size past the column's range is kept as unknown: it would else fail the insert, and
          // the request would not be kept at all.
          body_bytes: request.bodyBytes !== null && request.bodyBytes <= LARGEST_KEPT_SIZE ? request.bodyBytes : null,
          digest,
          times: sql<number>`coalesce((${newestTry.select(sql<number>`times + 1`.as('times'))}), 1)`,
          first_received_at: sql<Date>`coalesce((${newestTry.select('first_received_at')}), ${request.receivedAt}::timestamptz)`,
        })
        .returning('id')
        .compile(),
    );
    if (kept !== undefined && kept.id % PRUNE_EVERY === 0) {
      await run(db.deleteFrom('rejected_requests').where('id', '<=', kept.id - REJECTED_KEPT).compile());
    }
  });
}

/**
 * What makes a refused request the same one arriving again: how and where it came, why it was
 * refused, and its whole body, not the 4 KiB kept (the first 128 bits of the SHA-256, as a uuid).
 * Not its address: LINK retries from any of its hosts.
 */
function requestDigest(request: RejectedRequest): string {
  const { method, path, contentType, reason, bodyBytes } = request;
  const digest = createHash('sha256').update(JSON.stringify([method, path, contentType, reason, bodyBytes])).update(request.body);
  return uuidText(digest.digest('hex'));
}

export interface RejectedPage {
  readonly requests: RejectedRequestRow[];
  /** The id the next page starts below, or null on the last page. */
  readonly nextBefore: number | null;
}

/**
 * The refused requests newest first, a page at a time: `limit` of them kept before (below) the id
 * `before`, or the newest when it is null. One row more than the page is read: whether it comes
 * says whether there is a next page. Read as the query API's lookups are (prepared, and on a server
 * within the read deadline): behind a lock on the table, or on a server that stopped answering, a
 * read left waiting held a connection of the query API for as long.
 */
export async function rejectedRequestsPage(
  { db, readRows }: Pick<Database, 'db' | 'readRows'>,
  limit: number,
  before: number | null,
): Promise<RejectedPage> {
  let query = db.selectFrom('rejected_requests').selectAll();
  if (before !== null) query = query.where('id', '<', before);
  const rows = await readRows(query.orderBy('id', 'desc').limit(limit + 1).compile());
  const requests = rows.slice(0, limit);
  const last = requests.at(-1);
  return { requests, nextBefore: rows.length > limit && last !== undefined ? last.id : null };
}

/**
 * The body as text for inspection: cut at the limit, undecodable bytes shown as U+FFFD, NUL too. A
 * stream decoder holds back a character the cut splits, where a whole decode would show its first
 * bytes as U+FFFD, as though the sender had sent a byte that is no text.
 */
function bodyText(body: Buffer): string {
  const cut = body.subarray(0, REJECTED_BODY_LIMIT);
  const text = body.length > REJECTED_BODY_LIMIT ? new StringDecoder('utf8').write(cut) : cut.toString('utf8');
  return withNulShown(text);
}
