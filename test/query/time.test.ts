import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { rfc3339 } from '../../src/query/time.js';
import { openDatabase } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import type { MessageJson } from '../helpers/app.js';
import { createTestApp, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { adminQuery, createTestDatabase, serverUrl } from '../helpers/database.js';

describe('a time as the API writes it', () => {
  it('writes whole seconds without a fraction and others with milliseconds, in UTC', () => {
    expect(rfc3339(new Date('2015-11-19T09:37:35Z'))).toBe('2015-11-19T09:37:35Z');
    expect(rfc3339(new Date('2015-11-19T09:37:35.5Z'))).toBe('2015-11-19T09:37:35.500Z');
    expect(rfc3339(null)).toBeNull();
  });

  it('rewrites the text PostgreSQL writes as a Date would be written, whatever its offset and fraction', () => {
    const texts = [
      '2015-11-19T09:37:35+00:00',
      '2015-11-19T09:37:35.1+00:00',
      '2015-11-19T09:37:35.12+00:00',
      '2015-11-19T09:37:35.123+00:00',
      '2015-11-19T09:37:35.000400+00:00',
      '2015-11-19T09:37:35.999999+00:00',
      '2015-11-19T09:37:35.5Z',
      '2015-11-19T10:37:35.123456+01:00',
      '2015-11-19T04:07:35-05:30',
      '2015-11-20T00:37:35.25+15:00',
    ];
    for (const text of texts) expect(rfc3339(text), text).toBe(rfc3339(new Date(text)));
    expect(rfc3339('2015-11-19T10:37:35.123456+01:00')).toBe('2015-11-19T09:37:35.123Z');
    expect(rfc3339('2015-11-19T09:37:35.000400+00:00')).toBe('2015-11-19T09:37:35Z');
  });
});

describe('the times of a stored report, read back', () => {
  let testDb: TestDatabase;
  let app: App;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    app = await createTestApp(testDb.database);
  });
  afterAll(async () => {
    await app.close();
    await testDb.drop();
  });

  it('are written in UTC, with milliseconds only when they have some, by id and in a list', async () => {
    const report = { id: 'times', refId: 'order-times', resultCode: 1001, sentTimestamp: '2026-11-22T11:00:00+01:00', timestamp: '2026-11-22T11:00:05.12+01:00' };
    expect((await postJson(app, report)).statusCode).toBe(200);
    const byId = (await app.inject({ method: 'GET', url: '/messages/times' })).json<MessageJson>();
    const listed = (await app.inject({ method: 'GET', url: '/messages?refId=order-times' })).json<{ messages: MessageJson[] }>().messages[0];
    for (const message of [byId, listed]) {
      expect(message?.parts[0]).toMatchObject({ sentTimestamp: '2026-11-22T10:00:00Z', timestamp: '2026-11-22T10:00:05.120Z' });
      expect(message?.reports[0]?.receivedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
    }
    expect(listed).toEqual(byId);
  });

  it('keep the years 1 to 99 as sent, and a list since 0001-01-01 (a common "since ever") holds every message', async () => {
    const report = { id: 'early-years', refId: 'order-early', resultCode: 1001, sentTimestamp: '0001-01-01T00:00:00Z', timestamp: '0099-12-31T23:59:59.5Z' };
    expect((await postJson(app, report)).statusCode).toBe(200);
    const byId = (await app.inject({ method: 'GET', url: '/messages/early-years' })).json<MessageJson>();
    expect(byId.parts[0]).toMatchObject({ sentTimestamp: '0001-01-01T00:00:00Z', timestamp: '0099-12-31T23:59:59.500Z' });
    const since = await app.inject({ method: 'GET', url: '/messages?since=0001-01-01T00:00:00Z&refId=order-early' });
    expect(since.statusCode).toBe(200);
    expect(since.json<{ messages: MessageJson[] }>().messages).toEqual([byId]);
  });
});

describe('on a PostgreSQL server set up for another place', () => {
  // A database of its own for each, set up as a server there might be: Kathmandu's time zone
  // (+05:45), or dates written the SQL or German way (DateStyle), which the driver cannot read.
  it.skipIf(serverUrl === null).each([
    ['TimeZone', 'Asia/Kathmandu'],
    ['DateStyle', 'SQL, DMY'],
    ['DateStyle', 'German, DMY'],
  ])('writes the times in UTC with %s %s', async (setting, value) => {
    const name = `tz_${randomUUID().replaceAll('-', '')}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    await adminQuery(`ALTER DATABASE ${name} SET ${setting} = '${value}'`);
    const url = new URL(serverUrl ?? '');
    url.pathname = `/${name}`;
    const database = openDatabase({ databaseUrl: url.toString(), dataDir: '' });
    try {
      await migrateToLatest(database.db);
      const app = await createTestApp(database);
      try {
        const report = { id: 'nepal$1', resultCode: 1001, segments: 2, timestamp: '2026-11-22T10:00:05.12Z', sentTimestamp: '2026-11-22T10:00:00Z' };
        expect((await postJson(app, report)).statusCode).toBe(200);
        const message = (await app.inject({ method: 'GET', url: '/messages/nepal' })).json<MessageJson>();
        expect(message.parts[0]).toMatchObject({ sentTimestamp: '2026-11-22T10:00:00Z', timestamp: '2026-11-22T10:00:05.120Z' });
        const [listed] = (await app.inject({ method: 'GET', url: '/messages' })).json<{ messages: MessageJson[] }>().messages;
        expect(listed).toEqual(message);
        const receivedAt = Date.parse(String(message.reports[0]?.receivedAt));
        expect(Math.abs(receivedAt - Date.now())).toBeLessThan(60_000);
        expect(message.lastReportAt).toBe(message.reports[0]?.receivedAt);
        expect((await postJson(app, { resultCode: 1001 })).statusCode).toBe(400);
        const [rejected] = (await app.inject({ method: 'GET', url: '/rejected' })).json<{ rejected: Array<{ receivedAt: string }> }>().rejected;
        expect(Math.abs(Date.parse(String(rejected?.receivedAt)) - Date.now())).toBeLessThan(60_000);
      } finally {
        await app.close();
      }
    } finally {
      await database.close();
      await adminQuery(`DROP DATABASE ${name} WITH (FORCE)`);
    }
  });
});
