import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError, SETTING_NAMES, environmentWithEnvFile, namesNotRead, notReadLine, readConfig, serverNamedWithoutUrl, serverNamedWithoutUrlLine,
} from '../../src/config/config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('has the defaults of the contract', () => {
    const config = readConfig({});
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 3000,
      databaseUrl: null,
      dataDir: './data',
      trustProxy: false,
      ackBody: 'OK',
      apiToken: null,
      logLevel: 'info',
      bodyLimit: 65536,
      smpp: null,
      writeTimeoutMs: 5000,
      retentionDays: null,
    });
    expect(readConfig({ RETENTION_DAYS: '90' }).retentionDays).toBe(90);
    expect(config.allowedCallers?.entries).toHaveLength(36);
    expect(config.allowedCallers?.includes('62.67.62.101')).toBe(true);
    expect(config.allowedCallers?.includes('127.0.0.1')).toBe(false);
  });

  it('reads a variable set but empty, as a .env template leaves it, as unset: DLR_ACK_BODY too', () => {
    const empty = { PORT: '', HOST: ' ', DLR_ALLOWED_IPS: '', DLR_ACK_BODY: '', API_TOKEN: '', LOG_LEVEL: '', SMPP_URL: '' };
    expect(readConfig(empty)).toMatchObject({ port: 3000, host: '0.0.0.0', ackBody: 'OK', apiToken: null, logLevel: 'info', smpp: null });
    // A string that is set is answered exactly as written, spaces and all.
    expect(readConfig({ DLR_ACK_BODY: ' ACK ' }).ackBody).toBe(' ACK ');
  });

  it.each([
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DLR_ALLOWED_IPS: '10.0.0.300' }, 'DLR_ALLOWED_IPS'],
    [{ DLR_ALLOWED_IPS: 'linkmobility, example.com' }, 'DLR_ALLOWED_IPS'],
    [{ DLR_ALLOWED_IPS: '10.0.0.0/33' }, 'DLR_ALLOWED_IPS'],
    // Zero-padded, short, hexadecimal and single-number IPv4 forms: old parsers read 062 as octal.
    [{ DLR_ALLOWED_IPS: '062.067.062.101' }, 'DLR_ALLOWED_IPS'],
    [{ DLR_ALLOWED_IPS: '10.1' }, 'DLR_ALLOWED_IPS'],
    [{ DLR_ALLOWED_IPS: '0x3e.67.62.101' }, 'DLR_ALLOWED_IPS'],
    [{ DLR_ALLOWED_IPS: '1044594277' }, 'DLR_ALLOWED_IPS'],
    [{ DLR_ALLOWED_IPS: '010.0.0.0/8' }, 'DLR_ALLOWED_IPS'],
    [{ TRUST_PROXY: '010.0.0.1' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: 'my-proxy' }, 'TRUST_PROXY'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    // A password's "#" or "/" ends it early, as in any URL, and the driver cannot read the rest.
    [{ DATABASE_URL: 'postgres://dlr:pa#ss@db:5432/dlr' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://dlr:pa/ss@db:5432/dlr' }, 'DATABASE_URL'],
    // The driver would read an unknown sslmode as TLS on and say only that the server has none.
    [{ DATABASE_URL: 'postgres://dlr@db/dlr?sslmode=verify_full' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://dlr@db/dlr?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem' }, 'DATABASE_URL'],
    // libpq's high-availability URLs: the driver connects to one host (the first was refused as badly
    // encoded, the second waited for a host named "db1,db2").
    [{ DATABASE_URL: 'postgres://dlr@db1:5432,db2:5432/dlr?target_session_attrs=read-write' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://dlr@db1,db2/dlr' }, 'DATABASE_URL'],
    // A replication session runs no statement with parameters: the start waited for the database for good.
    [{ DATABASE_URL: 'postgres://dlr@db/dlr?replication=database' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SMPP_URL: 'http://x:y@host:1' }, 'SMPP_URL'],
    [{ SMPP_URL: 'smpp://host:99999' }, 'SMPP_URL'],
    [{ SMPP_URL: 'smpp://id:50%off@host' }, 'SMPP_URL'],
    [{ SMPP_URL: 'smpp://id%E0%A4:pw@host' }, 'SMPP_URL'],
    [{ SMPP_BIND: 'transmitter' }, 'SMPP_BIND'],
    [{ SMPP_URL: 'smpp://id:pw@host', SMPP_RECONNECT_MS: 'soon' }, 'SMPP_RECONNECT_MS'],
    // The gateway closes a link idle for 5 minutes: a keepalive must come well inside that.
    [{ SMPP_URL: 'smpp://id:pw@host', SMPP_ENQUIRE_LINK_MS: '300000' }, 'SMPP_ENQUIRE_LINK_MS'],
    [{ SMPP_URL: 'smpps://id:pw@host', SMPP_TLS_CA: '/nonexistent/ca.pem' }, 'SMPP_TLS_CA'],
    [{ SMPP_URL: 'smpps://id:pw@host', SMPP_TLS_CA: 'package.json' }, 'SMPP_TLS_CA'],
    [{ DLR_BODY_LIMIT: '12' }, 'DLR_BODY_LIMIT'],
    // A write to a server held this short would go to the journal under an ordinary load.
    [{ WRITE_TIMEOUT_MS: '50' }, 'WRITE_TIMEOUT_MS'],
    [{ WRITE_TIMEOUT_MS: '5s' }, 'WRITE_TIMEOUT_MS'],
    // A message kept for less than a day would go before LINK stops retrying its reports.
    [{ RETENTION_DAYS: '0' }, 'RETENTION_DAYS'],
    [{ RETENTION_DAYS: '90d' }, 'RETENTION_DAYS'],
    // A 200 promises the report survives a restart: a database in memory would not.
    [{ DATA_DIR: 'memory://' }, 'DATA_DIR'],
    [{ DATA_DIR: 'file:///var/lib/receiver' }, 'DATA_DIR'],
    [{ HOST: 'not a host!' }, 'HOST'],
    [{ HOST: '[::1]' }, 'HOST'],
    [{ HOST: 'http://example.com' }, 'HOST'],
    // The resolver reads these as inet_aton does: 127.0.0.1, 0.0.0.0, 8.0.0.1 and 127.0.0.1.
    [{ HOST: '127.1' }, 'HOST'],
    [{ HOST: '0' }, 'HOST'],
    [{ HOST: '010.0.0.1' }, 'HOST'],
    [{ HOST: '2130706433' }, 'HOST'],
    // Nothing after host:port is read: a bind type there would be ignored.
    [{ SMPP_URL: 'smpp://id:pw@host:2775/?bind=transceiver' }, 'SMPP_URL'],
    [{ SMPP_URL: 'smpp://id:pw@host/receiver' }, 'SMPP_URL'],
    // A bind carries ASCII: the library would send these as other bytes, or end the field early.
    [{ SMPP_URL: 'smpp://id:p%C3%A5ss@host' }, 'SMPP_URL'],
    [{ SMPP_URL: 'smpp://id%00x:pw@host' }, 'SMPP_URL'],
  ])('refuses %o, naming %s', (env, variable) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable}: `));
  });

  it('says how to write a DATABASE_URL the driver cannot read, without echoing the password', () => {
    const [problem] = problemsOf({ DATABASE_URL: 'postgres://dlr:pa#ss@db:5432/dlr' });
    expect(problem).toBe('DATABASE_URL: is not a URL the PostgreSQL driver can read; percent-encode special characters in the user name and password (# as %23, / as %2F, @ as %40)');
    expect(problemsOf({ DATABASE_URL: 'postgres://dlr@db/dlr?sslmode=verify_full' })).toEqual([
      'DATABASE_URL: sslmode "verify_full" is not one of disable, prefer, require, verify-ca, verify-full, no-verify',
    ]);
    expect(problemsOf({ DATABASE_URL: 'postgres://dlr@db/dlr?sslrootcert=/nonexistent/ca.pem' })[0]).toMatch(/^DATABASE_URL: the PostgreSQL driver cannot use it: .*\/nonexistent\/ca\.pem/);
    expect(problemsOf({ DATABASE_URL: 'postgres://dlr@db/dlr?uselibpqcompat=true&sslmode=verify-ca' })[0]).toMatch(/^DATABASE_URL: the PostgreSQL driver cannot use it: .*sslmode=verify-ca requires specifying a CA with sslrootcert/);
    for (const url of ['postgres://dlr:pa%23ss@db:5432/dlr', 'postgresql://db/dlr?sslmode=verify-full', 'postgres://dlr@db/dlr?options=-c%20search_path%3Ddlr']) {
      expect(readConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    }
  });

  it('takes DATA_DIR as a folder, relative or absolute, and names the memory:// problem', () => {
    expect(readConfig({ DATA_DIR: '/srv/dlr' }).dataDir).toBe('/srv/dlr');
    expect(readConfig({ DATA_DIR: 'var/dlr:2' }).dataDir).toBe('var/dlr:2');
    expect(problemsOf({ DATA_DIR: 'memory://' })[0]).toMatch(/lose every acknowledged report/);
  });

  it('says how to write a HOST in one of inet_aton\'s forms', () => {
    expect(problemsOf({ HOST: '010.0.0.1' })).toEqual([
      'HOST: "010.0.0.1" is not an IP address or host name (0.0.0.0 listens on every IPv4 address, :: on every address); write IPv4 as four decimal numbers without leading zeros',
    ]);
  });

  it('names the part of SMPP_URL that a bind cannot use, without echoing the password', () => {
    const problems = [...problemsOf({ SMPP_URL: 'smpp://id:s3cret@host:2775/?bind=transceiver' }), ...problemsOf({ SMPP_URL: 'smpp://id:s3cr%C3%A9t@host' })];
    expect(problems).toEqual([
      'SMPP_URL: has a path or query after host:port, which the receiver does not read: the bind type is SMPP_BIND, the timings SMPP_RECONNECT_MS and SMPP_ENQUIRE_LINK_MS',
      'SMPP_URL: the password holds a character a bind cannot carry: SMPP 3.4 sends it as ASCII, without NUL',
    ]);
    expect(readConfig({ SMPP_URL: 'smpp://id:pw@host:2775/' }).smpp).toMatchObject({ host: 'host', port: 2775 });
  });

  it('takes HOST as an IPv4 or IPv6 address or a host name', () => {
    for (const host of ['127.0.0.1', '::', '::1', 'fe80::1%eth0', 'localhost', 'dlr-receiver.example.com', 'dlr.example.com.']) {
      expect(readConfig({ HOST: host }).host).toBe(host);
    }
  });

  it('reads LOG_LEVEL and SMPP_BIND in any case, as the words they are', () => {
    expect(readConfig({ LOG_LEVEL: 'INFO' }).logLevel).toBe('info');
    expect(readConfig({ LOG_LEVEL: 'Debug' }).logLevel).toBe('debug');
    expect(readConfig({ SMPP_URL: 'smpp://id:pw@host', SMPP_BIND: 'Transceiver' }).smpp?.bind).toBe('transceiver');
  });

  it('names every bad variable at once', () => {
    expect(problemsOf({ PORT: '0', LOG_LEVEL: 'x', TRUST_PROXY: 'y' }).map((problem) => problem.split(':')[0])).toEqual([
      'PORT',
      'LOG_LEVEL',
      'TRUST_PROXY',
    ]);
  });

  it('reads SMPP_URL into its parts', () => {
    expect(readConfig({ SMPP_URL: 'smpps://my%20id:p%40ss@smpp.example:4002', SMPP_BIND: 'transceiver' }).smpp).toEqual({
      tls: true,
      host: 'smpp.example',
      port: 4002,
      systemId: 'my id',
      password: 'p@ss',
      bind: 'transceiver',
      reconnectMs: 30_000,
      enquireLinkMs: 60_000,
      tlsCa: null,
    });
  });

  it('reads an IPv6 gateway address in SMPP_URL without its brackets, as a socket takes it', () => {
    expect(readConfig({ SMPP_URL: 'smpp://id:pw@[2001:db8::7]:2775' }).smpp).toMatchObject({ host: '2001:db8::7', port: 2775 });
  });

  it('says which part of SMPP_URL has a bad % escape, without echoing the password', () => {
    expect(problemsOf({ SMPP_URL: 'smpp://id:50%off@host' })).toEqual([
      'SMPP_URL: the password has a % not followed by two hex digits of UTF-8; write a % itself as %25',
    ]);
    expect(readConfig({ SMPP_URL: 'smpp://id:50%25off@host' }).smpp?.password).toBe('50%off');
  });

  it('waits 30 seconds before reconnecting and sends enquire_link every minute unless told otherwise', () => {
    expect(readConfig({ SMPP_URL: 'smpp://id:pw@host', SMPP_RECONNECT_MS: '500', SMPP_ENQUIRE_LINK_MS: '20000' }).smpp).toMatchObject({
      port: 2775,
      bind: 'receiver',
      reconnectMs: 500,
      enquireLinkMs: 20_000,
    });
  });

  it('reads IPv4 only as four decimal numbers, and says so when an entry is written otherwise', () => {
    // Read as octal, 062.067.062.101 would be 50.55.50.101: a stranger allowed and LINK's host refused.
    expect(problemsOf({ DLR_ALLOWED_IPS: 'linkmobility, 062.067.062.101' })).toEqual([
      'DLR_ALLOWED_IPS: "062.067.062.101" is not an IPv4/IPv6 address or CIDR range; write IPv4 as four decimal numbers without leading zeros (use addresses, CIDR ranges, "linkmobility" or "*")',
    ]);
    expect(problemsOf({ DLR_ALLOWED_IPS: '10.1/16' })).toEqual([
      'DLR_ALLOWED_IPS: "10.1/16" is not an IPv4/IPv6 address or CIDR range; write IPv4 as four decimal numbers without leading zeros (use addresses, CIDR ranges, "linkmobility" or "*")',
    ]);
    expect(problemsOf({ TRUST_PROXY: 'loopback, 010.0.0.1' })).toEqual([
      'TRUST_PROXY: "010.0.0.1" is not an address, CIDR range, loopback, linklocal, uniquelocal or hop count; write IPv4 as four decimal numbers without leading zeros',
    ]);
    const allowed = readConfig({ DLR_ALLOWED_IPS: '62.67.62.101, 10.0.0.0/8, ::ffff:192.0.2.0/120, 2001:db8::/32' }).allowedCallers;
    for (const address of ['62.67.62.101', '::ffff:62.67.62.101', '10.200.3.4', '192.0.2.77', '2001:db8::5']) expect(allowed?.includes(address)).toBe(true);
    // A caller is named as a socket names it; a proxy's odd spelling of an allowed address is no match.
    for (const address of ['1044594277', '062.067.062.101', '10.1', '192.0.3.1']) expect(allowed?.includes(address)).toBe(false);
  });

  it('takes loopback, linklocal and uniquelocal in TRUST_PROXY, and refuses true, which would believe any client', () => {
    expect(readConfig({ TRUST_PROXY: 'Loopback, 10.0.0.0/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(readConfig({ TRUST_PROXY: 'uniquelocal,linklocal' }).trustProxy).toEqual(['uniquelocal', 'linklocal']);
    for (const word of ['true', 'TRUE', '*']) {
      expect(problemsOf({ TRUST_PROXY: word })).toEqual([expect.stringContaining(`TRUST_PROXY: "${word}" would believe anyone's X-Forwarded-For`)]);
    }
  });

  it('reads a .env file saved with a byte order mark, its first variable too, as Docker Compose does', () => {
    const folder = mkdtempSync(join(tmpdir(), 'dlr-env-'));
    const file = join(folder, '.env');
    writeFileSync(file, '\uFEFFDATABASE_URL=postgres://dlr@db/dlr\r\nPORT=4100\r\n');
    expect(readConfig(environmentWithEnvFile({}, file))).toMatchObject({ databaseUrl: 'postgres://dlr@db/dlr', port: 4100 });
  });

  it('knows each variable .env.example lists as one it reads, and no other', () => {
    const example = readFileSync(join(import.meta.dirname, '../../.env.example'), 'utf8');
    const listed = [...example.matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect([...new Set(listed)].sort()).toEqual([...SETTING_NAMES].sort());
  });

  it('names what .env sets that neither the receiver nor Docker Compose reads, and what the environment sets with its prefixes', () => {
    const file = { DATABSE_URL: 'postgres://dlr@db/dlr', PORT: '3000', POSTGRES_PASSWORD: 'pw', COMPOSE_PROJECT_NAME: 'dlr', API_TOKEN: 't', Port: '1' };
    const env = { HOME: '/root', NPM_TOKEN: 'x', DLR_ACK: 'ACKED', SMPP_ULR: 'smpp://a@b', DLR_ACK_BODY: 'ACKED', SMPP_URL: 'smpp://a@b' };
    const notRead = namesNotRead(file, env);
    expect(notRead).toEqual({ inEnvFile: ['DATABSE_URL', 'Port'], inEnvironment: ['DLR_ACK', 'SMPP_ULR'] });
    expect(notReadLine(notRead)).toBe(
      '.env sets DATABSE_URL, Port and the environment sets DLR_ACK, SMPP_ULR, which the receiver does not read: check the spelling against .env.example',
    );
    expect(notReadLine(namesNotRead({ PORT: '3000' }, { DLR_ACK_BODY: 'OK', HOME: '/root' }))).toBeNull();
  });

  it('leaves alone the names Kubernetes gives a pod for each Service of its namespace, as for one named dlr-receiver, and names a misspelling beside them', () => {
    const env = {
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      DLR_RECEIVER_SERVICE_HOST: '10.96.12.7',
      DLR_RECEIVER_SERVICE_PORT: '80',
      DLR_RECEIVER_SERVICE_PORT_HTTP: '80',
      DLR_RECEIVER_PORT: 'tcp://10.96.12.7:80',
      DLR_RECEIVER_PORT_80_TCP: 'tcp://10.96.12.7:80',
      DLR_RECEIVER_PORT_80_TCP_PROTO: 'tcp',
      DLR_RECEIVER_PORT_80_TCP_PORT: '80',
      DLR_RECEIVER_PORT_80_TCP_ADDR: '10.96.12.7',
      SMPP_SERVICE_HOST: '10.96.3.4',
      SMPP_SERVICE_PORT: '2775',
      SMPP_PORT: 'tcp://10.96.3.4:2775',
      SMPP_PORT_2775_TCP: 'tcp://10.96.3.4:2775',
      DLR_ACK: 'ACKED',
      DLR_RECEIVER_TOKEN: 't',
    };
    expect(namesNotRead({}, env).inEnvironment).toEqual(['DLR_ACK', 'DLR_RECEIVER_TOKEN']);
    // Without a Service's host, a DLR_…_PORT is a name the receiver does not read, as before.
    expect(namesNotRead({}, { DLR_PORT: '8080' }).inEnvironment).toEqual(['DLR_PORT']);
  });

  it('names the libpq variables that point at a server when DATABASE_URL is unset, and says where reports go instead', () => {
    const env = { PGHOST: 'db.internal', PGPORT: '5433', PGDATABASE: 'dlr', PGUSER: 'dlr', PGPASSWORD: 'pw', PGSERVICE: '' };
    const names = serverNamedWithoutUrl(readConfig(env), env);
    expect(names).toEqual(['PGHOST', 'PGPORT', 'PGDATABASE']);
    expect(serverNamedWithoutUrlLine(names, './data')).toBe(
      'the environment sets PGHOST, PGPORT, PGDATABASE but not DATABASE_URL: the receiver keeps reports in its embedded database under DATA_DIR (./data), not on that server; to use the server, set DATABASE_URL (postgres://user@host:port/database)',
    );
    // With DATABASE_URL the driver takes from them what the URL leaves out, as libpq does.
    const withUrl = { ...env, DATABASE_URL: 'postgres:///dlr' };
    expect(serverNamedWithoutUrl(readConfig(withUrl), withUrl)).toEqual([]);
    // A user or password alone names no server.
    expect(serverNamedWithoutUrlLine(serverNamedWithoutUrl(readConfig({ PGUSER: 'dlr', PGPASSWORD: 'pw' }), { PGUSER: 'dlr', PGPASSWORD: 'pw' }), './data')).toBeNull();
  });

  it('reads a .env file, with the real environment winning', () => {
    const folder = mkdtempSync(join(tmpdir(), 'dlr-env-'));
    const file = join(folder, '.env');
    writeFileSync(file, 'PORT=4100\nDLR_ACK_BODY=from-file\n');
    const config = readConfig(environmentWithEnvFile({ DLR_ACK_BODY: 'from-env' }, file));
    expect(config.port).toBe(4100);
    expect(config.ackBody).toBe('from-env');
  });

  it('refuses a .env value with a # glued inside it, which Node and Docker Compose read differently, naming the variable and not the value', () => {
    const folder = mkdtempSync(join(tmpdir(), 'dlr-env-'));
    const file = join(folder, '.env');
    writeFileSync(file, 'PORT=4100\nAPI_TOKEN=s3cret#tail\nexport DLR_ACK_BODY=#LINKOK\n');
    expect(() => environmentWithEnvFile({}, file)).toThrow(ConfigError);
    expect(() => environmentWithEnvFile({}, file)).toThrow(/\.env: API_TOKEN, DLR_ACK_BODY: a # inside an unquoted value.*put the value in quotes/);
    expect(() => environmentWithEnvFile({}, file)).not.toThrow(/s3cret|tail|LINKOK/);
    // Set in the real environment, the file's value is not read, so it does not stop the start.
    expect(readConfig(environmentWithEnvFile({ API_TOKEN: 'real', DLR_ACK_BODY: 'real-ack' }, file))).toMatchObject({ apiToken: 'real', ackBody: 'real-ack' });
  });

  it('refuses a .env value with $NAME outside single quotes, which Docker Compose replaces and Node does not, and reads it in single quotes', () => {
    const folder = mkdtempSync(join(tmpdir(), 'dlr-env-'));
    const file = join(folder, '.env');
    writeFileSync(file, 'DATABASE_URL=postgres://dlr:pa$word@db/dlr\nAPI_TOKEN="t0k${EN}"\nDLR_ACK_BODY=price 5$\nTRUST_PROXY=10.0.0.0/8#x\n');
    expect(() => environmentWithEnvFile({}, file)).toThrow(
      ".env: TRUST_PROXY: a # inside an unquoted value, which Node reads as the start of a comment and Docker Compose as part of the value; " +
        'put the value in quotes, or a space before a # that starts a comment; and DATABASE_URL, API_TOKEN: a $ before a name in a value ' +
        "outside single quotes, which Docker Compose replaces with a variable and Node keeps as written; put the value in single quotes ('…')",
    );
    writeFileSync(file, "DATABASE_URL='postgres://dlr:pa$word@db/dlr'\nAPI_TOKEN='t0k${EN}'\nDLR_ACK_BODY=price 5$\n");
    expect(readConfig(environmentWithEnvFile({}, file))).toMatchObject({ apiToken: 't0k${EN}', ackBody: 'price 5$' });
  });

  it('reads a # in quotes, a comment after a space and a # inside a value over several lines as Node and Docker Compose both do', () => {
    const folder = mkdtempSync(join(tmpdir(), 'dlr-env-'));
    const file = join(folder, '.env');
    writeFileSync(
      file,
      [
        '# the token for the query API',
        'API_TOKEN="s3cret#tail"',
        "DLR_ACK_BODY='#ACK#'",
        'LOG_LEVEL=warn # quieter',
        'SMPP_TLS_NOTE="first line',
        'PORT=1#2',
        'last line"',
        'HOST= # nothing',
      ].join('\n'),
    );
    const env = environmentWithEnvFile({}, file);
    expect(env).toMatchObject({ API_TOKEN: 's3cret#tail', DLR_ACK_BODY: '#ACK#', LOG_LEVEL: 'warn', SMPP_TLS_NOTE: 'first line\nPORT=1#2\nlast line', HOST: '' });
    expect(readConfig(env)).toMatchObject({ apiToken: 's3cret#tail', ackBody: '#ACK#', logLevel: 'warn', port: 3000 });
  });
});
