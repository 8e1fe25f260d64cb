/**
 * A database password holding the characters a URL gives meaning (`/`, `#`, `%`, `@`, `?`, `:`), as
 * a generated one often does. Runs against a server this test starts itself, asking every
 * connection for a password, in the suite run on the PostgreSQL server.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerEnvironment } from '../helpers/compose.js';
import { serverUrl } from '../helpers/database.js';
import type { OwnPostgres } from '../helpers/own-postgres.js';
import { postgresBinaries, startOwnPostgres } from '../helpers/own-postgres.js';
import { freePort, launchReceiver, postReport, startReceiver } from '../helpers/receiver-process.js';

const PASSWORD = 'p/a#s%41s@w?r:d+ x';
const binaries = postgresBinaries();
let own: OwnPostgres | undefined;

/** The server's address, as `host:port`. */
function ownAddress(): string {
  if (own === undefined) throw new Error('the test PostgreSQL did not start');
  return new URL(own.url).host;
}

beforeAll(async () => {
  if (binaries === null || serverUrl === null) return;
  own = await startOwnPostgres(binaries, { password: PASSWORD });
  // The role and database docker-compose.yml's PostgreSQL makes from POSTGRES_USER and POSTGRES_DB.
  const { hostname, port, pathname } = new URL(own.url);
  const admin = new pg.Client({ host: hostname, port: Number(port), database: pathname.slice(1), user: 'postgres', password: PASSWORD });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE dlr LOGIN PASSWORD '${PASSWORD.replaceAll("'", "''")}'`);
    await admin.query('CREATE DATABASE dlr OWNER dlr');
  } finally {
    await admin.end();
  }
}, 120_000);
afterAll(() => {
  own?.remove();
});

/** Stores a report through the receiver started with `env`, and finds it again. */
async function storesAndFinds(env: Record<string, string>): Promise<void> {
  const receiver = await startReceiver({ ...env, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-password-')) });
  try {
    const id = `password-${String(Date.now())}`;
    expect(await postReport(receiver.base, id)).toBe(200);
    expect((await fetch(`${receiver.base}/messages/${id}`)).status).toBe(200);
    expect(receiver.output()).not.toContain(PASSWORD);
  } finally {
    receiver.child.kill('SIGTERM');
    expect(await receiver.exited).toBe(0);
  }
}

describe.skipIf(binaries === null || serverUrl === null)('a database password with URL characters', () => {
  it('reaches the server as POSTGRES_PASSWORD gives it under docker compose', async () => {
    const container = containerEnvironment({ POSTGRES_PASSWORD: PASSWORD, DLR_ALLOWED_IPS: '127.0.0.1' });
    // The compose file's server, `postgres:5432`, is this test's.
    const databaseUrl = (container['DATABASE_URL'] ?? '').replace('@postgres:5432/', `@${ownAddress()}/`);
    // Where it listens and keeps data are the test's.
    const settings = Object.entries(container).filter(([name]) => !['HOST', 'PORT', 'DATA_DIR'].includes(name));
    await storesAndFinds({ ...Object.fromEntries(settings), DATABASE_URL: databaseUrl });
  });

  it('stops the start saying so when the server asks for a password and none is given', async () => {
    const launched = launchReceiver({
      DATABASE_URL: `postgres://dlr@${ownAddress()}/dlr`, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-password-')), PORT: String(await freePort()), HOST: '127.0.0.1',
    });
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain(
      "the database server asks for a password, and none is given: put it in DATABASE_URL (percent-encoded) or in the environment's PGPASSWORD",
    );
  });

  it('reaches the server percent-encoded in DATABASE_URL, as the README says to write it', async () => {
    await storesAndFinds({ DATABASE_URL: `postgres://dlr:${encodeURIComponent(PASSWORD)}@${ownAddress()}/dlr` });
  });
});
