/**
 * Between two reports of a part that have no timestamp and are both final, or both not, the one
 * received last decides. Receivers before this migration let whichever of the two they read first
 * decide, so a message's row (its status, counts and the report at its top, which the listing and
 * its filters read) may name the wrong one. Lookups by id work the row out afresh and were right
 * once the receiver was; this puts the rows right for the messages where such a tie can be.
 *
 * The rules are those of `src/meaning/deciding-report.ts` and `src/meaning/message-state.ts` as
 * they stand at this migration, written in SQL so that the migration keeps its meaning whatever
 * the code becomes. The parts' count (`total`) does not hang on the deciders and is kept. Finding
 * the messages reads the whole `reports` table, once, at the start that applies this migration.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`WITH tied AS (
      SELECT DISTINCT message_id FROM reports
      WHERE report_timestamp IS NULL
      GROUP BY message_id, part, final
      HAVING count(*) > 1),
    deciders AS (
      SELECT DISTINCT ON (r.message_id, r.part) r.message_id, r.part, r.seq, r.status, r.final, r.result_code, r.result_description, r.operator
      FROM reports AS r JOIN tied USING (message_id)
      ORDER BY r.message_id, r.part, r.final DESC, r.report_timestamp DESC NULLS LAST, r.seq DESC),
    by_part AS (
      SELECT m.message_id, coalesce(own.seq, whole.seq) AS seq, coalesce(own.status, whole.status) AS status,
             coalesce(own.final, whole.final) AS final,
             CASE WHEN own.seq IS NOT NULL THEN own.result_code ELSE whole.result_code END AS result_code,
             coalesce(own.result_description, whole.result_description) AS result_description,
             CASE WHEN own.seq IS NOT NULL THEN own.operator ELSE whole.operator END AS operator
      FROM messages AS m
      JOIN tied USING (message_id)
      CROSS JOIN LATERAL generate_series(0, m.total - 1) AS series (part)
      LEFT JOIN deciders AS own ON own.message_id = m.message_id AND own.part = series.part
      LEFT JOIN deciders AS whole ON whole.message_id = m.message_id AND whole.part IS NULL),
    counted AS (
      SELECT message_id,
             count(*) AS total,
             count(*) FILTER (WHERE status = 'delivered') AS delivered,
             count(*) FILTER (WHERE status = 'failed') AS failed,
             count(*) FILTER (WHERE status = 'unknown') AS unknown,
             count(*) FILTER (WHERE seq IS NULL OR status = 'pending') AS pending,
             bool_and(coalesce(final, false)) AS final
      FROM by_part
      GROUP BY message_id),
    latest AS (
      SELECT DISTINCT ON (message_id) message_id, result_code, result_description, operator
      FROM by_part
      WHERE seq IS NOT NULL
      ORDER BY message_id, seq DESC)
    UPDATE messages AS m
    SET status = CASE
          WHEN c.pending > 0 THEN 'pending'
          WHEN c.delivered = c.total THEN 'delivered'
          WHEN c.delivered > 0 THEN 'partially_delivered'
          WHEN c.failed > 0 THEN 'failed'
          ELSE 'unknown' END,
        final = c.final,
        delivered = c.delivered,
        failed = c.failed,
        unknown = c.unknown,
        pending = c.pending,
        result_code = latest.result_code,
        result_description = latest.result_description,
        operator = latest.operator
    FROM counted AS c LEFT JOIN latest USING (message_id)
    WHERE m.message_id = c.message_id`.execute(db);
}

export async function down(): Promise<void> {
  // Nothing to undo: the rows are what the receivers before it meant to write.
}
