/**
 * DATABASE_URL read as the PostgreSQL driver (`pg`) reads it at connect time, so that a URL it
 * cannot use stops the start, and one it would read otherwise than libpq does is told at start.
 * libpq's URL may name several hosts and choose among them (`target_session_attrs`); the driver
 * connects to one host, and takes a dozen of libpq's parameters: a URL written for `psql` or a
 * high-availability cluster was refused as badly encoded, or waited for a host named `h1,h2`.
 */
import { parse as parseConnectionString } from 'pg-connection-string';
import { errorCode } from '../lib/error-code.js';

/** libpq's modes and the driver's own `no-verify`; the driver takes any other word as TLS on. */
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/** What is wrong with the URL for the driver, in words that follow `DATABASE_URL: `; null when nothing. */
export function databaseUrlProblem(url: string): string | null {
  if (!/^postgres(ql)?:\/\//.test(url)) return 'must be a postgres:// or postgresql:// URL';
  const hosts = hostsNamed(url);
  if (hosts.length > 1) {
    return (
      `names ${hosts.length} hosts (${hosts.join(', ')}), and the PostgreSQL driver connects to one: name the primary, ` +
        "or one address that follows it when another server takes over (a virtual IP, a managed service's writer endpoint, a proxy such as HAProxy or PgBouncer)"
    );
  }
  let sslmode: unknown;
  try {
    sslmode = parseConnectionString(url).sslmode;
  } catch (error) {
    // Besides the URL, the driver reads the files sslrootcert, sslcert and sslkey name, and
    // checks TLS settings that contradict each other.
    if (errorCode(error) === 'ERR_INVALID_URL') {
      return 'is not a URL the PostgreSQL driver can read; percent-encode special characters in the user name and password (# as %23, / as %2F, @ as %40)';
    }
    return `the PostgreSQL driver cannot use it: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (typeof sslmode === 'string' && !SSL_MODES.includes(sslmode)) return `sslmode "${sslmode}" is not one of ${SSL_MODES.join(', ')}`;
  const replication = urlParameters(url).get('replication');
  if (replication !== null && !NOT_REPLICATION.includes(replication.toLowerCase())) {
    // Such a session takes no statement with parameters: the start waited for the database for good.
    return `sets replication=${replication}, which opens a replication session, where the server runs none of the receiver's statements: remove it`;
  }
  return null;
}

/** libpq's words for an ordinary session, and no word, which the driver does not send; any other value asks for a replication one. */
const NOT_REPLICATION = ['', 'false', 'off', 'no', '0'];

/**
 * The hosts of the URL's authority (libpq's `host1:5432,host2:5432`) or of its `host` parameter.
 * The user name and password, before the last `@`, are left out: they may hold a comma, and are
 * never repeated.
 */
function hostsNamed(url: string): string[] {
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
  const hostPart = authority.slice(authority.lastIndexOf('@') + 1);
  const named = urlParameters(url).get('host') ?? hostPart;
  return named.startsWith('/') ? [named] : named.split(',').filter((host) => host !== '');
}

/** The URL's query parameters, decoded. */
function urlParameters(url: string): URLSearchParams {
  return new URLSearchParams(/\?([^#]*)/.exec(url)?.[1] ?? '');
}

/** The URL's parameters the driver acts on: its own, and those of libpq it shares. */
const DRIVER_PARAMETERS: ReadonlySet<string> = new Set([
  'host', 'port', 'user', 'password', 'options', 'application_name', 'fallback_application_name',
  'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'query_timeout', 'replication',
  'ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslnegotiation', 'uselibpqcompat',
]);

/** libpq's defaults: a parameter that says the default changes nothing the driver would do otherwise. */
const LIBPQ_DEFAULTS: Readonly<Record<string, string>> = { target_session_attrs: 'any', load_balance_hosts: 'disable' };

const SCHEMA_INSTEAD = "the receiver's tables go to the user's search_path (most often public); to keep them in a schema, set options=-c%20search_path%3DNAME";

/** What the receiver does instead, for the parameters a user most often sets with a purpose. */
const INSTEAD: Readonly<Record<string, string>> = {
  target_session_attrs:
    'the receiver checks at start whether its server takes writes, and keeps reports in its local journal, acknowledged, while it takes none',
  connect_timeout: 'the receiver gives each connection 5 seconds',
  dbname: 'name the database in the path (postgres://host:5432/DATABASE)',
  service: 'the driver reads no pg_service.conf: name the host, port and database in the URL itself',
  passfile: 'without a password in the URL or PGPASSWORD, the driver reads ~/.pgpass, or the file PGPASSFILE names',
  // The driver reads both into its settings, and its pooled connections use neither.
  client_encoding: 'the driver always speaks UTF8 with the server',
  binary: 'rows are read as text',
  // Other tools' URLs (Prisma's, JDBC's) choose a schema so; the receiver's tables would land in `public`.
  schema: SCHEMA_INSTEAD,
  search_path: SCHEMA_INSTEAD,
  currentSchema: SCHEMA_INSTEAD,
};

/** The parameters of the URL the driver does not act on, with libpq's default values left out. */
export function parametersNotActedOn(url: string): string[] {
  const names = new Set<string>();
  for (const [name, value] of urlParameters(url)) {
    if (DRIVER_PARAMETERS.has(name) || LIBPQ_DEFAULTS[name] === value) continue;
    names.add(name);
  }
  return [...names];
}

/** Says which parameters the driver leaves aside, and what happens instead; null when none. */
export function parametersNotActedOnLine(names: readonly string[]): string | null {
  if (names.length === 0) return null;
  const instead = names.flatMap((name) => (INSTEAD[name] === undefined ? [] : [`${name}: ${INSTEAD[name]}`]));
  return (
    `DATABASE_URL sets ${names.join(', ')}, which the PostgreSQL driver does not act on: the receiver connects as if ` +
    `${names.length === 1 ? 'it were' : 'they were'} absent${instead.length === 0 ? '' : `; ${instead.join('; ')}`}`
  );
}
