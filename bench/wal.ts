/**
 * What a request wrote to PostgreSQL's write-ahead log, and the checkpoints that started meanwhile.
 * The log bytes a report costs follow from the statements and the schema alone, so unlike the CPU
 * they do not swing with the machine: a change to the write path shows in them at once. A
 * checkpoint during a run explains a tail: its flushes of the data files share the disk with the
 * log's, on which every commit waits.
 */

/** Runs one statement on the benchmark's PostgreSQL and returns its rows. */
export type AdminQuery = <T extends Record<string, unknown>>(text: string) => Promise<T[]>;

export interface WalReading {
  /** The log's insert position, in bytes from its start. */
  readonly position: bigint;
  /** Checkpoints started since the statistics were last reset. */
  readonly checkpoints: number;
}

export interface WalPerRequest {
  readonly bytesPerRequest: number;
  readonly checkpoints: number;
}

export async function readWal(admin: AdminQuery): Promise<WalReading> {
  const [position] = await admin<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
  return { position: lsnBytes(position?.lsn ?? '0/0'), checkpoints: await checkpointsStarted(admin) };
}

export function walPerRequest(before: WalReading, after: WalReading, requests: number): WalPerRequest {
  const bytes = Number(after.position - before.position);
  return { bytesPerRequest: requests > 0 ? bytes / requests : 0, checkpoints: after.checkpoints - before.checkpoints };
}

/** An LSN (`4/2B92C508`: the high and low 32 bits in hex) as a byte position. */
export function lsnBytes(lsn: string): bigint {
  const [high = '0', low = '0'] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/** PostgreSQL 17 moved the checkpoint counts from pg_stat_bgwriter to pg_stat_checkpointer. */
async function checkpointsStarted(admin: AdminQuery): Promise<number> {
  const [version] = await admin<{ version: string }>(`SELECT current_setting('server_version_num') AS version`);
  const query =
    Number(version?.version) >= 170000
      ? 'SELECT num_timed + num_requested AS count FROM pg_stat_checkpointer'
      : 'SELECT checkpoints_timed + checkpoints_req AS count FROM pg_stat_bgwriter';
  const [row] = await admin<{ count: string }>(query);
  return Number(row?.count ?? 0);
}
