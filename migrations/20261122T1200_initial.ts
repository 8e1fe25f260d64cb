/**
 * Reports as received, the deciding report of each part, the state of each message, and the
 * requests intake turned away. Frozen: later changes go in later migrations.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('reports')
    .addColumn('seq', 'bigserial', (column) => column.primaryKey())
    .addColumn('fingerprint', 'text', (column) => column.notNull().unique())
    .addColumn('report_id', 'text', (column) => column.notNull())
    .addColumn('message_id', 'text', (column) => column.notNull())
    .addColumn('part', 'smallint')
    .addColumn('ref_id', 'text')
    .addColumn('result_code', 'integer')
    .addColumn('result_description', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('final', 'boolean', (column) => column.notNull())
    .addColumn('delivery', 'text', (column) => column.notNull())
    .addColumn('billing', 'text', (column) => column.notNull())
    .addColumn('operator', 'text')
    .addColumn('operator_result_code', 'text')
    .addColumn('segments', 'smallint')
    .addColumn('sent_timestamp', 'timestamptz')
    .addColumn('report_timestamp', 'timestamptz')
    .addColumn('source', 'text')
    .addColumn('destination', 'text')
    .addColumn('format', 'text', (column) => column.notNull())
    .addColumn('gate', 'text')
    .addColumn('remote_address', 'text')
    .addColumn('received_at', 'timestamptz', (column) => column.notNull())
    // json, not jsonb: the payload keeps the order and form it arrived in.
    .addColumn('payload', 'json', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('reports_message_idx').on('reports').columns(['message_id', 'seq']).execute();

  await db.schema
    .createTable('parts')
    .addColumn('message_id', 'text', (column) => column.notNull())
    // null: the deciding report among those that speak for the whole message (an id without `$n`).
    .addColumn('part', 'smallint')
    .addColumn('report_seq', 'bigint', (column) => column.notNull().references('reports.seq'))
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('final', 'boolean', (column) => column.notNull())
    .addColumn('report_timestamp', 'timestamptz')
    .addColumn('result_code', 'integer')
    .addColumn('result_description', 'text', (column) => column.notNull())
    .addColumn('operator', 'text')
    .addUniqueConstraint('parts_message_part_key', ['message_id', 'part'], (constraint) => constraint.nullsNotDistinct())
    .execute();

  await db.schema
    .createTable('messages')
    .addColumn('message_id', 'text', (column) => column.primaryKey())
    .addColumn('ref_id', 'text')
    .addColumn('status', 'text', (column) => column.notNull().defaultTo('pending'))
    .addColumn('final', 'boolean', (column) => column.notNull().defaultTo(false))
    .addColumn('segments_reported', 'smallint')
    .addColumn('total', 'smallint', (column) => column.notNull().defaultTo(1))
    .addColumn('delivered', 'smallint', (column) => column.notNull().defaultTo(0))
    .addColumn('failed', 'smallint', (column) => column.notNull().defaultTo(0))
    .addColumn('unknown', 'smallint', (column) => column.notNull().defaultTo(0))
    .addColumn('pending', 'smallint', (column) => column.notNull().defaultTo(1))
    .addColumn('result_code', 'integer')
    .addColumn('result_description', 'text')
    .addColumn('operator', 'text')
    .addColumn('source', 'text')
    .addColumn('destination', 'text')
    .addColumn('first_report_at', 'timestamptz')
    .addColumn('last_report_at', 'timestamptz')
    // seq of the message's newest report: the listing's order and its cursor.
    .addColumn('last_seq', 'bigint')
    .execute();
  await sql`CREATE INDEX messages_listing_idx ON messages (last_seq DESC)`.execute(db);
  await sql`CREATE INDEX messages_ref_id_idx ON messages (ref_id, last_seq DESC)`.execute(db);
  await sql`CREATE INDEX messages_status_idx ON messages (status, last_seq DESC)`.execute(db);

  await db.schema
    .createTable('rejected_requests')
    .addColumn('id', 'bigserial', (column) => column.primaryKey())
    .addColumn('received_at', 'timestamptz', (column) => column.notNull())
    .addColumn('remote_address', 'text')
    .addColumn('method', 'text', (column) => column.notNull())
    .addColumn('path', 'text', (column) => column.notNull())
    .addColumn('content_type', 'text')
    .addColumn('reason', 'text', (column) => column.notNull())
    .addColumn('body', 'text', (column) => column.notNull())
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rejected_requests').execute();
  await db.schema.dropTable('messages').execute();
  await db.schema.dropTable('parts').execute();
  await db.schema.dropTable('reports').execute();
}
