/**
 * What the logs hold, captured from a receiver logging at `trace`: never the Authorization header,
 * a GET report's query string, or a phone number, whatever the requests did; and a refused caller
 * is logged once per window, not once per request. The receiver's own long numbers (a migration's
 * date, a process, a byte limit) are kept.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildApp } from '../../src/app.js';
import { readConfig } from '../../src/config/config.js';
import { errorSummary } from '../../src/lib/error-summary.js';
import { loggerOptions } from '../../src/logging.js';
import { openDatabase } from '../../src/storage/database.js';
import { EmbeddedLogWriteError } from '../../src/storage/embedded-durability.js';
import { FolderInUseError } from '../../src/storage/folder-claim.js';
import { JournalFullError } from '../../src/storage/journal.js';
import { createTestApp } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';
import { capturedLog } from '../helpers/captured-log.js';

const TOKEN = 'tok-3f9a7c1e55';
const PHONE = '4799887766';
const SENDER = '4711223344';
const log = capturedLog();
let testDb: TestDatabase;
let app: App;

beforeAll(async () => {
  testDb = await createTestDatabase();
  const config = readConfig({ DLR_ALLOWED_IPS: '127.0.0.1', API_TOKEN: TOKEN, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-logs-')) });
  app = await buildApp({ config, database: testDb.database, logger: pino(loggerOptions('trace', false), log.stream) });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await testDb.drop();
});

describe('the logs', () => {
  it('hold no token, no GET query string and no phone number, whatever the requests', async () => {
    const query = `id=log-get-1&resultCode=1001&customParameters.destination=${PHONE}&customParameters.source=${SENDER}`;
    expect((await app.inject({ method: 'GET', url: `/dlr?${query}` })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: `/dlr?resultCode=oops&destination=${PHONE}` })).statusCode).toBe(400);
    const refusedJson = await app.inject({
      method: 'POST',
      url: '/dlr',
      headers: { 'content-type': 'application/json' },
      payload: `{"id":"log-bad","resultCode":"x","customParameters":{"destination":"${PHONE}"}}`,
    });
    expect(refusedJson.statusCode).toBe(400);
    const stranger = await app.inject({ method: 'GET', url: `/dlr?${query}`, remoteAddress: '192.0.2.77' });
    expect(stranger.statusCode).toBe(403);
    for (const authorization of [`Bearer ${TOKEN}`, 'Bearer wrong-token']) {
      await app.inject({ method: 'GET', url: '/messages/log-get-1', headers: { authorization } });
    }
    await app.inject({ method: 'GET', url: `/messages?refId=${PHONE}`, headers: { authorization: `Bearer ${TOKEN}` } });

    expect(log.text()).toContain('report refused');
    for (const secret of [TOKEN, PHONE, SENDER, 'resultCode=oops', 'log-get-1&']) expect(log.text()).not.toContain(secret);
  });

  it('hold no phone number from a refused body, whatever its parser says about it', async () => {
    const refusals: Array<{ contentType: string; payload: string }> = [
      // V8 quotes the text around a JSON syntax error in its message.
      { contentType: 'application/json', payload: `{"id":"log-json","resultCode":1001,"customParameters":{"destination":+${PHONE}}}` },
      { contentType: 'application/json', payload: `{"d":x${PHONE}}` },
      { contentType: 'application/json', payload: `["${PHONE}",x]` },
      { contentType: 'application/json', payload: `{"id":"log-json-3","resultCode":1001,"gateCustomParameters":{"key":xs3cr3t-${PHONE}}}` },
      // The XML checker names what stands where a tag should.
      { contentType: 'application/xml', payload: `<r><id>log-xml</id><resultCode>1001</resultCode><d><${PHONE}></d></r>` },
      { contentType: 'application/xml', payload: `<?xml version="1.0" ${PHONE}?><r><id>log-xml-2</id></r>` },
      // A field's value is quoted when it is not what the field takes.
      { contentType: 'application/x-www-form-urlencoded', payload: `id=log-form&resultCode=1001&sentTimestamp=%2B${PHONE}` },
      { contentType: 'application/x-www-form-urlencoded', payload: `id=log-form-2&resultCode=${PHONE}5` },
    ];
    for (const { contentType, payload } of refusals) {
      const before = log.text().length;
      const response = await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': contentType }, payload });
      expect(response.statusCode).toBe(400);
      const logged = log.text().slice(before);
      expect(logged).toContain('report refused');
      expect(logged, payload).not.toContain(PHONE);
      expect(logged, payload).not.toContain('s3cr3t');
    }
  });

  it('hold no phone number written in groups, and keep the dates, times and addresses a refusal quotes', async () => {
    const refusedValues: Array<[string, string]> = [
      ['segments', '+47 998 87 766'],
      ['segments', '+47-998-87-766'],
      ['resultCode', '+47 (0)998 87.766'],
      ['segments', '06.12.34.56.78'],
      ['sentTimestamp', '2015-11-19 25:61:00.123456'],
      ['timestamp', 'from 192.168.100.200'],
    ];
    const before = log.text().length;
    for (const [field, value] of refusedValues) {
      const payload = new URLSearchParams({ id: 'log-grouped', resultCode: '1001', [field]: value }).toString();
      const response = await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload });
      expect(response.statusCode).toBe(400);
    }
    const reasons = log.text().slice(before).trim().split('\n').map((line) => (JSON.parse(line) as { reason: string }).reason);
    expect(reasons).toEqual([
      'segments must be a whole number, got "[digits]"',
      'segments must be a whole number, got "[digits]"',
      'resultCode must be a whole number, got "[digits]"',
      'segments must be a whole number, got "[digits]"',
      'sentTimestamp is not a real date-time: "2015-11-19 25:61:00.123456"',
      'timestamp must be an RFC 3339 date-time, got "from 192.168.100.200"',
    ]);
  });

  it('hold no phone number from a query\'s filter, logged with a read that ran out of time, and keep its times', () => {
    const before = log.text().length;
    const filter = { destination: `+${PHONE}`, refId: `order-${SENDER}`, since: new Date('2026-11-01T00:00:00Z'), limit: 50 };
    app.log.warn({ filter, timeoutMs: 5000 }, 'the page was not read in time: answered 503');
    const logged = log.text().slice(before);
    expect(JSON.parse(logged)).toMatchObject({ filter: { destination: '[digits]', refId: 'order-[digits]', since: '2026-11-01T00:00:00.000Z', limit: 50 } });
    expect(logged).not.toContain(PHONE);
    expect(logged).not.toContain(SENDER);
  });

  it('keep the long numbers that are the receiver\'s own, such as the dates in the names of the migrations it applied', () => {
    const before = log.text().length;
    app.log.info({ applied: ['20261122T1200_initial'], journalBytes: 12_345_678 }, 'database ready');
    expect(log.text().slice(before)).toContain('"applied":["20261122T1200_initial"],"journalBytes":12345678');
  });

  it('give an error its code and message alone, with no phone number, whether the receiver or the framework logs it', () => {
    const failure = Object.assign(new Error(`value too long for ${PHONE}`), { code: '22001' });
    const before = log.text().length;
    app.log.error({ err: errorSummary(failure) }, 'report not stored');
    app.log.warn({ err: failure }, 'response terminated with an error');
    const logged = log.text().slice(before).trim().split('\n').map((line) => JSON.parse(line) as { err: unknown });
    expect(logged.map((line) => line.err)).toEqual(Array(2).fill({ code: '22001', message: 'value too long for [digits]' }));
    expect(log.text().slice(before)).not.toContain(PHONE);
  });

  it('name the migration an error is about, its date and all, and still no phone number', () => {
    const failure = new Error(`migration 20261205T0600_untimed-ties-by-arrival failed: value too long for ${PHONE}; 20261205T0600 alone is no name`);
    const before = log.text().length;
    app.log.fatal({ err: errorSummary(failure) }, 'could not prepare the database');
    // Before, "migration [digits]T0600_untimed-ties-by-arrival failed".
    expect((JSON.parse(log.text().slice(before)) as { err: unknown }).err).toEqual({
      message: 'migration 20261205T0600_untimed-ties-by-arrival failed: value too long for [digits]; [digits]T0600 alone is no name',
    });
  });

  it('keep the long numbers of the receiver\'s own errors: a process, its host, a byte limit, a file', () => {
    const own = [
      new FolderInUseError('/srv/dlr/journal', { pid: 4_194_303, host: 'a1b2345678cd' }),
      new JournalFullError(1_073_741_824),
      new EmbeddedLogWriteError('/srv/dlr/postgres/pg_wal/000000010000000000000001', Object.assign(new Error('no space'), { code: 'ENOSPC' })),
    ];
    const before = log.text().length;
    for (const error of own) app.log.fatal({ err: errorSummary(error) }, 'could not start the receiver');
    // The framework's path: the error itself.
    app.log.error({ err: own[0] }, 'could not start the receiver');
    const logged = log.text().slice(before).trim().split('\n').map((line) => (JSON.parse(line) as { err: { message: string } }).err.message);
    // Before, "in use by process [digits] on host a1b[digits]cd", "its limit of [digits] bytes",
    // "pg_wal/[digits]".
    expect(logged).toEqual([
      'the journal folder /srv/dlr/journal is in use by process 4194303 on host a1b2345678cd; give each receiver its own DATA_DIR',
      'the local journal holds its limit of 1073741824 bytes and the database is not taking reports',
      expect.stringContaining("the embedded database's write-ahead log, /srv/dlr/postgres/pg_wal/000000010000000000000001 ("),
      'the journal folder /srv/dlr/journal is in use by process 4194303 on host a1b2345678cd; give each receiver its own DATA_DIR',
    ]);
  });

  it('say, when a refused caller relays for another address, that TRUST_PROXY may be what is missing', async () => {
    const before = log.text().length;
    const relayed = await app.inject({ method: 'POST', url: '/dlr', remoteAddress: '192.0.2.50', headers: { 'x-forwarded-for': '62.67.62.101' } });
    expect(relayed.statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/dlr', remoteAddress: '192.0.2.51' })).statusCode).toBe(403);
    // nginx set up with `proxy_set_header X-Real-IP $remote_addr` alone.
    expect((await app.inject({ method: 'POST', url: '/dlr', remoteAddress: '192.0.2.52', headers: { 'x-real-ip': '62.67.62.101' } })).statusCode).toBe(403);
    const refusals = log.text().slice(before).trim().split('\n').map((line) => JSON.parse(line) as { remoteAddress: string; hint?: string });
    expect(refusals).toEqual([
      expect.objectContaining({ remoteAddress: '192.0.2.50', hint: '192.0.2.50 relays for another address, which is not believed: if it is your proxy, name it in TRUST_PROXY' }),
      expect.not.objectContaining({ hint: expect.anything() as unknown }),
      expect.objectContaining({
        remoteAddress: '192.0.2.52',
        hint:
          '192.0.2.52 relays for another address in X-Real-IP or Forwarded, which are not read: if it is your proxy, have it send X-Forwarded-For ' +
          '(nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for) and name it in TRUST_PROXY',
      }),
    ]);
  });

  it('ask, once a minute, whether the URL given to LINK is right when a sender posts to a path not served, with no phone number from it', async () => {
    const before = log.text().length;
    for (const path of [`/dlr-${PHONE}`, '/DLR', '/api/dlr']) {
      expect((await app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json' }, payload: '{}' })).statusCode).toBe(404);
    }
    const strays = log.text().slice(before).trim().split('\n').map((line) => JSON.parse(line) as { msg: string; reason: string });
    expect(strays).toEqual([
      expect.objectContaining({
        msg: expect.stringContaining('is the URL given to LINK right?') as unknown,
        reason: 'no route POST /dlr-[digits]: reports are taken at /dlr and /dlr/{gate}',
      }),
    ]);
  });

  it('say, once a minute, that a body was over DLR_BODY_LIMIT', async () => {
    const before = log.text().length;
    const payload = `{"id":"log-big","resultCode":1001,"customParameters":{"destination":"${PHONE}","filler":"${'x'.repeat(70_000)}"}}`;
    for (let index = 0; index < 3; index++) {
      expect((await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload })).statusCode).toBe(413);
    }
    const warnings = log.text().slice(before).trim().split('\n').map((line) => JSON.parse(line) as { msg: string; bodyLimitBytes: number });
    // The limit is a number of its own, never masked as a sender's digits are.
    expect(warnings).toEqual([expect.objectContaining({ msg: expect.stringContaining('over DLR_BODY_LIMIT') as unknown, bodyLimitBytes: 65_536 })]);
    expect(log.text().slice(before)).not.toContain(PHONE);
  });

  it('name a refused caller once per window, however many requests it sends', async () => {
    const before = log.text().split('192.0.2.99').length;
    for (let index = 0; index < 20; index++) {
      expect((await app.inject({ method: 'POST', url: '/dlr', remoteAddress: '192.0.2.99' })).statusCode).toBe(403);
    }
    expect(log.text().split('192.0.2.99').length - before).toBe(1);
  });
});

describe('the logs, while the database is away', () => {
  it('say once a minute, not once a request, that a refused request could not be kept', async () => {
    // Nothing listens on port 1: a database that does not answer.
    const away = openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', dataDir: '' });
    const awayLog = capturedLog();
    const awayApp = await createTestApp(away, {}, pino(loggerOptions('info', false), awayLog.stream));
    try {
      for (let index = 0; index < 5; index++) {
        const refused = await awayApp.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: '{"id":"unkept"}' });
        expect(refused.statusCode).toBe(400);
      }
      const failures = awayLog.text().split('\n').filter((line) => line.includes('could not keep a rejected request'));
      expect(failures).toHaveLength(1);
      expect(failures[0]).toContain('ECONNREFUSED');
    } finally {
      await awayApp.close();
      await away.close();
    }
  });
});
