/** Builds the receiver for a test, on the test file's database, with loopback allowed to deliver. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import type { App } from '../../src/app.js';
import { buildApp } from '../../src/app.js';
import type { Environment } from '../../src/config/config.js';
import { readConfig } from '../../src/config/config.js';
import type { Database } from '../../src/storage/database.js';
import type { TestDatabase } from './database.js';
import { createTestDatabase } from './database.js';

export const LOOPBACK_CALLERS = '127.0.0.1,::1';

export async function createTestApp(database: Database, env: Environment = {}, logger?: FastifyBaseLogger): Promise<App> {
  // Each receiver gets a data folder of its own, for its journal.
  const dataDir = mkdtempSync(join(tmpdir(), 'dlr-test-'));
  const config = readConfig({ DLR_ALLOWED_IPS: LOOPBACK_CALLERS, DATA_DIR: dataDir, ...env });
  const app = await buildApp({ config, database, ...(logger === undefined ? {} : { logger }) });
  await app.ready();
  return app;
}

/** The REST document's first example: a delivered message. */
export function deliveredReport(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    refId: '0',
    id: '0',
    operator: 'no.telenor',
    sentTimestamp: '2015-11-19T09:37:35Z',
    timestamp: '2015-11-19T09:37:00Z',
    resultCode: 1001,
    operatorResultCode: '2',
    segments: 1,
    gateCustomParameters: {},
    customParameters: { received: '2015-11-19 10:37:36' },
    ...overrides,
  };
}

/** The REST document's second example: a number that does not exist. */
export function numberErrorReport(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    refId: '0',
    id: '0',
    operator: null,
    sentTimestamp: '2015-11-19T10:17:37Z',
    timestamp: '2015-11-19T10:17:37Z',
    resultCode: 2106,
    operatorResultCode: null,
    segments: 1,
    gateCustomParameters: {},
    customParameters: { received: '2015-11-19 11:17:37' },
    ...overrides,
  };
}

export async function postJson(app: App, body: unknown, url = '/dlr') {
  return app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
}

export interface MessageJson {
  messageId: string;
  refId: string | null;
  status: string;
  final: boolean;
  resultCode: number | null;
  resultDescription: string | null;
  operator: string | null;
  source: string | null;
  destination: string | null;
  segments: { total: number; delivered: number; failed: number; unknown: number; pending: number };
  parts: Array<Record<string, unknown> & { part: number; status: string; final: boolean; resultCode: number | null }>;
  reports: Array<Record<string, unknown> & { id: string; part: number | null; payload: unknown; format: string; gate: string | null }>;
  firstReportAt: string | null;
  lastReportAt: string | null;
}

export async function getMessage(app: App, id: string): Promise<MessageJson> {
  const response = await app.inject({ method: 'GET', url: `/messages/${encodeURIComponent(id)}` });
  if (response.statusCode !== 200) throw new Error(`GET /messages/${id}: ${response.statusCode} ${response.body}`);
  return response.json<MessageJson>();
}

/**
 * Registers the file's database and receiver for its tests, and removes them afterwards. Read
 * `receiver.app` and `receiver.testDb` inside tests (they are set before the first runs).
 */
export function useTestReceiver(env: Environment = {}): { app: App; testDb: TestDatabase } {
  const receiver = {} as { app: App; testDb: TestDatabase };
  beforeAll(async () => {
    receiver.testDb = await createTestDatabase();
    receiver.app = await createTestApp(receiver.testDb.database, env);
  });
  afterAll(async () => {
    await receiver.app.close();
    await receiver.testDb.drop();
  });
  return receiver;
}
