/**
 * What the receiver's sessions at a PostgreSQL server are doing, as the server's `pg_stat_activity`
 * says: for a start whose migrations the server holds up (a lock another session holds, a
 * synchronous standby that does not confirm), which would otherwise wait without a word.
 */
import type pg from 'pg';

export interface SessionWait {
  readonly pid: number;
  /** `pg_stat_activity.wait_event_type` and `wait_event`: null while the session is running. */
  readonly waitEventType: string | null;
  readonly waitEvent: string | null;
  /** Sessions holding a lock this one waits for. */
  readonly blockedBy: readonly number[];
  /** How long its statement has run. */
  readonly seconds: number;
}

/** The busy sessions among `pids`, the one asking left out. */
export async function sessionWaits(client: pg.ClientBase, pids: readonly number[]): Promise<SessionWait[]> {
  if (pids.length === 0) return [];
  const { rows } = await client.query<SessionWait>(
    `SELECT pid,
            wait_event_type AS "waitEventType",
            wait_event AS "waitEvent",
            pg_blocking_pids(pid) AS "blockedBy",
            round(extract(epoch FROM clock_timestamp() - query_start))::int AS seconds
       FROM pg_stat_activity
      WHERE pid = ANY($1::int[]) AND pid <> pg_backend_pid() AND state = 'active'
      ORDER BY pid`,
    [[...pids]],
  );
  return rows;
}

/** The wait in words, for an operator who has to end it. */
export function describeWait(wait: SessionWait): string {
  if (wait.blockedBy.length > 0) {
    return `waits for a lock held by session ${wait.blockedBy.join(', ')} (pg_stat_activity says what it runs; pg_terminate_backend ends it)`;
  }
  if (wait.waitEvent === 'SyncRep') {
    return 'waits for a synchronous standby to confirm its commit (synchronous_standby_names names one that does not answer)';
  }
  if (wait.waitEventType === null) return 'is running';
  return `waits for ${wait.waitEventType} ${wait.waitEvent ?? ''}`.trimEnd();
}
