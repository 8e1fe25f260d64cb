import { describe, expect, it } from 'vitest';
import { databaseUrlProblem, parametersNotActedOn, parametersNotActedOnLine } from '../../src/config/database-url.js';

describe('DATABASE_URL as the PostgreSQL driver reads it', () => {
  it('names the hosts of a URL with several, without the password, and says what to name instead', () => {
    const problem = databaseUrlProblem('postgres://dlr:se,cret@db1.internal:5432,db2.internal:5433/dlr?target_session_attrs=read-write');
    expect(problem).toBe(
      'names 2 hosts (db1.internal:5432, db2.internal:5433), and the PostgreSQL driver connects to one: name the primary, ' +
        "or one address that follows it when another server takes over (a virtual IP, a managed service's writer endpoint, a proxy such as HAProxy or PgBouncer)",
    );
    expect(databaseUrlProblem('postgres://dlr@db1,db2,db3/dlr')).toMatch(/^names 3 hosts \(db1, db2, db3\)/);
    expect(databaseUrlProblem('postgres://dlr@/dlr?host=db1,db2')).toMatch(/^names 2 hosts \(db1, db2\)/);
  });

  it('takes one host, an IPv6 address, a socket folder, or none', () => {
    for (const url of [
      'postgres://dlr:pa%2Css@db:5432/dlr',
      'postgres://dlr@[::1]:5432/dlr',
      'postgres://dlr@/dlr?host=%2Fvar%2Frun%2Fpostgresql',
      'postgres:///dlr',
      'postgresql://db/dlr?sslmode=verify-full',
    ]) {
      expect(databaseUrlProblem(url)).toBeNull();
    }
  });

  it('refuses a URL that asks for a replication session, and takes one that asks for an ordinary one', () => {
    expect(databaseUrlProblem('postgres://dlr@db/dlr?replication=database')).toBe(
      "sets replication=database, which opens a replication session, where the server runs none of the receiver's statements: remove it",
    );
    expect(databaseUrlProblem('postgres://dlr@db/dlr?replication=true')).toMatch(/^sets replication=true, /);
    for (const ordinary of ['', 'false', 'OFF', 'no', '0']) expect(databaseUrlProblem(`postgres://dlr@db/dlr?replication=${ordinary}`)).toBeNull();
  });

  it('lists the parameters the driver leaves aside, but not its own nor libpq\'s defaults', () => {
    expect(
      parametersNotActedOn(
        'postgres://dlr@db/dlr?sslmode=require&options=-c%20x%3Dy&application_name=dlr&target_session_attrs=read-write&connect_timeout=10&load_balance_hosts=disable&keepalives=1',
      ),
    ).toEqual(['target_session_attrs', 'connect_timeout', 'keepalives']);
    expect(parametersNotActedOn('postgres://dlr@db/dlr?target_session_attrs=any&statement_timeout=60000')).toEqual([]);
    expect(parametersNotActedOn('postgres://dlr@db/dlr')).toEqual([]);
    // The driver reads these two into its settings, and its connections speak UTF8 and read text whatever they say.
    expect(parametersNotActedOn('postgres://dlr@db/dlr?client_encoding=LATIN1&binary=true')).toEqual(['client_encoding', 'binary']);
  });

  it('says what the receiver does instead of each parameter it leaves aside', () => {
    expect(parametersNotActedOnLine(['target_session_attrs'])).toBe(
      'DATABASE_URL sets target_session_attrs, which the PostgreSQL driver does not act on: the receiver connects as if it were absent; ' +
        'target_session_attrs: the receiver checks at start whether its server takes writes, and keeps reports in its local journal, acknowledged, while it takes none',
    );
    expect(parametersNotActedOnLine(['keepalives', 'passfile'])).toBe(
      'DATABASE_URL sets keepalives, passfile, which the PostgreSQL driver does not act on: the receiver connects as if they were absent; ' +
        'passfile: without a password in the URL or PGPASSWORD, the driver reads ~/.pgpass, or the file PGPASSFILE names',
    );
    // Prisma's URLs choose a schema so: the tables would land in public without a word.
    expect(parametersNotActedOnLine(parametersNotActedOn('postgresql://dlr@db:5432/dlr?schema=dlr'))).toContain(
      'schema: the receiver\'s tables go to the user\'s search_path (most often public); to keep them in a schema, set options=-c%20search_path%3DNAME',
    );
    expect(parametersNotActedOnLine([])).toBeNull();
  });
});
