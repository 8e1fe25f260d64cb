/** What the receiver needs of the PostgreSQL server it stores to, checked before the migrations. */

export interface ServerFacts {
  /** `server_version_num`: 150020 for 15.20. */
  readonly versionNumber: number;
  /** `server_version`: `15.20 (Debian 15.20-0+deb12u1)`. */
  readonly version: string;
  /** `server_encoding`, the database's. */
  readonly encoding: string;
}

/** PostgreSQL 15: the first migration's `UNIQUE NULLS NOT DISTINCT` is new there. */
const OLDEST_SERVER = { versionNumber: 150000, name: '15' } as const;

/** What makes the server unfit, in words that say what to do; null when it fits. */
export function serverProblem(facts: ServerFacts): string | null {
  if (facts.versionNumber < OLDEST_SERVER.versionNumber) {
    const [version] = facts.version.split(' ');
    return `the database server is PostgreSQL ${version ?? facts.version}; the receiver needs PostgreSQL ${OLDEST_SERVER.name} or later`;
  }
  // A report may carry any character (an emoji in a custom parameter, `€` in an id). A database in
  // another encoding refuses to store the ones it lacks, and a refused write reads as a database
  // that cannot serve: the report was answered 503, and LINK sent it again for good, never stored.
  if (facts.encoding !== 'UTF8') {
    return `the database is encoded ${facts.encoding}, which cannot hold every character a report may carry; the receiver needs a UTF8 database (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)`;
  }
  return null;
}
