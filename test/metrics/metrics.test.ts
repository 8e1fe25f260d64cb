/**
 * `GET /metrics`: what Prometheus scrapes to watch the receiver. Each count is checked against what
 * the receiver was sent, and each state against what `/readyz` says at the same moment.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { assembleReceiver } from '../../src/app.js';
import { readConfig } from '../../src/config/config.js';
import { COMMAND_STATUS } from '../../src/smpp/smpp-library.js';
import { LOOPBACK_CALLERS, createTestApp, deliveredReport, numberErrorReport, postJson } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { receiptPdu, receiptText, startFakeGateway } from '../helpers/smpp-gateway.js';
import { startSmppReceiver } from '../helpers/smpp-receiver.js';

const TOKEN = 'metrics-token';
const AUTHORIZED = { authorization: `Bearer ${TOKEN}` };

/** Each sample of a scrape, by its name and labels as written (`name{label="value"}`). */
async function scrape(app: App, headers: Record<string, string> = AUTHORIZED): Promise<Map<string, number>> {
  const response = await app.inject({ method: 'GET', url: '/metrics', headers });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of response.body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** Intake's answers are counted once sent, which `inject` may resolve before. */
async function expectSamples(app: App, expected: Record<string, number>): Promise<Map<string, number>> {
  let samples = new Map<string, number>();
  await vi.waitFor(async () => {
    samples = await scrape(app);
    expect(Object.fromEntries(Object.keys(expected).map((name) => [name, samples.get(name)]))).toEqual(expected);
  });
  return samples;
}

describe('GET /metrics', () => {
  it('counts acknowledged reports by format and status, a retry again, intake answers by code (a body over the limit too), and the refusals kept', async () => {
    const testDb = await createTestDatabase();
    const app = await createTestApp(testDb.database, { API_TOKEN: TOKEN, DLR_BODY_LIMIT: '2048' });
    try {
      expect((await postJson(app, deliveredReport({ id: 'metrics-1' }))).statusCode).toBe(200);
      expect((await postJson(app, deliveredReport({ id: 'metrics-1' }))).statusCode).toBe(200);
      expect((await postJson(app, [numberErrorReport({ id: 'metrics-2' }), deliveredReport({ id: 'metrics-3$0', resultCode: 1000 })])).statusCode).toBe(200);
      const form = await app.inject({ method: 'POST', url: '/dlr/gateA', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'id=metrics-4&resultCode=1001' });
      expect(form.statusCode).toBe(200);
      expect((await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: '{"id":' })).statusCode).toBe(400);
      expect((await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'text/plain' }, payload: 'id=x' })).statusCode).toBe(415);
      expect((await postJson(app, deliveredReport({ id: 'metrics-5' }))).statusCode).toBe(200);
      expect((await app.inject({ method: 'POST', url: '/dlr', remoteAddress: '10.1.2.3', headers: { 'content-type': 'application/json' }, payload: '{}' })).statusCode).toBe(403);
      expect((await postJson(app, deliveredReport({ id: 'metrics-6', customParameters: { note: 'x'.repeat(3000) } }))).statusCode).toBe(413);

      const samples = await expectSamples(app, {
        'dlr_reports_acknowledged_total{format="json",status="delivered"}': 3,
        'dlr_reports_acknowledged_total{format="json",status="failed"}': 1,
        'dlr_reports_acknowledged_total{format="json",status="pending"}': 1,
        'dlr_reports_acknowledged_total{format="form",status="delivered"}': 1,
        'dlr_intake_answers_total{code="200"}': 5,
        'dlr_intake_answers_total{code="400"}': 1,
        'dlr_intake_answers_total{code="403"}': 1,
        'dlr_intake_answers_total{code="413"}': 1,
        'dlr_intake_answers_total{code="415"}': 1,
        'dlr_rejected_requests_total{via="http"}': 3,
        dlr_started: 1,
        dlr_database_up: 1,
        dlr_storing_to_journal: 0,
        dlr_journal_reports: 0,
        'dlr_smpp_state{state="disabled"}': 1,
        'dlr_smpp_state{state="bound"}': 0,
      });
      // Node's own, for memory and event-loop alerts.
      expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(samples.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
      // Lookups and scrapes are not intake: after one of each and a report, the count of 200s is one more.
      expect((await app.inject({ method: 'GET', url: '/messages/metrics-1', headers: AUTHORIZED })).statusCode).toBe(200);
      expect((await postJson(app, deliveredReport({ id: 'metrics-7' }))).statusCode).toBe(200);
      await expectSamples(app, { 'dlr_intake_answers_total{code="200"}': 6, 'dlr_reports_acknowledged_total{format="json",status="delivered"}': 4 });
    } finally {
      await app.close();
      await testDb.drop();
    }
  });

  it('is read as the query API is: with API_TOKEN only with the token, without it only from this machine; other methods get 405', async () => {
    const testDb = await createTestDatabase();
    const withToken = await createTestApp(testDb.database, { API_TOKEN: TOKEN });
    const withoutToken = await createTestApp(testDb.database);
    try {
      const noToken = await withToken.inject({ method: 'GET', url: '/metrics' });
      expect(noToken.statusCode).toBe(401);
      expect(noToken.body).not.toContain('dlr_');
      expect((await withToken.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);

      expect((await scrape(withoutToken, {})).get('dlr_started')).toBe(1);
      const fromElsewhere = await withoutToken.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' });
      expect(fromElsewhere.statusCode).toBe(403);

      const post = await withToken.inject({ method: 'POST', url: '/metrics', headers: AUTHORIZED });
      expect(post.statusCode).toBe(405);
      expect(post.headers.allow).toBe('GET, HEAD, OPTIONS');
    } finally {
      await withToken.close();
      await withoutToken.close();
      await testDb.drop();
    }
  });

  it('shows the database away and the reports waiting in the journal, each counted as acknowledged', async () => {
    const testDb = await createTestDatabase();
    const other = testDb.openAnother();
    const app = await createTestApp(other, { API_TOKEN: TOKEN });
    try {
      await other.close();
      expect((await postJson(app, deliveredReport({ id: 'metrics-journal' }))).statusCode).toBe(200);
      await expectSamples(app, {
        dlr_database_up: 0,
        dlr_storing_to_journal: 1,
        dlr_journal_reports: 1,
        'dlr_reports_acknowledged_total{format="json",status="delivered"}': 1,
      });
    } finally {
      await app.close();
      if (other !== testDb.database) await testDb.drop();
    }
  });

  it('answers while the receiver starts, saying so, and counts the 503s intake gives meanwhile', async () => {
    const testDb = await createTestDatabase();
    const config = readConfig({ DLR_ALLOWED_IPS: LOOPBACK_CALLERS, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-test-')), API_TOKEN: TOKEN });
    const { app, open } = await assembleReceiver({ config, database: testDb.database });
    try {
      expect((await postJson(app, deliveredReport({ id: 'metrics-early' }))).statusCode).toBe(503);
      await expectSamples(app, { dlr_started: 0, 'dlr_intake_answers_total{code="503"}': 1 });
      expect((await scrape(app)).has('dlr_reports_acknowledged_total{format="json",status="delivered"}')).toBe(false);
      open();
      expect((await scrape(app)).get('dlr_started')).toBe(1);
    } finally {
      await app.close();
      await testDb.drop();
    }
  });

  it('counts deliver_sm and data_sm answers by command status, receipts acknowledged, and incoming messages kept as SMPP\'s, and shows the bind', async () => {
    const testDb = await createTestDatabase();
    const gateway = await startFakeGateway({ systemId: 'metrics', password: 'pw' });
    const receiver = await startSmppReceiver(testDb.database, { SMPP_URL: gateway.url('metrics', 'pw'), API_TOKEN: TOKEN });
    try {
      await receiver.waitForState('bound');
      const receipt = await gateway.deliver(receiptPdu(receiptText({ id: 'metrics-smpp', stat: 'UNDELIV', submitDate: '251119093735', doneDate: '251119093801' })));
      expect(receipt.command_status).toBe(COMMAND_STATUS.ok);
      const incoming = await gateway.deliver({ source_addr: '4799999999', destination_addr: '2000', esm_class: 0, short_message: Buffer.from('STOP') });
      expect(incoming.command_status).toBe(COMMAND_STATUS.ok);
      const incomingData = await gateway.sendDataSm({ source_addr: '4799999999', destination_addr: '2000', esm_class: 0, message_payload: Buffer.from('HELLO') });
      expect(incomingData.command_status).toBe(COMMAND_STATUS.ok);
      await expectSamples(receiver.app, {
        'dlr_smpp_deliver_sm_answers_total{command_status="ESME_ROK"}': 3,
        'dlr_reports_acknowledged_total{format="smpp",status="failed"}': 1,
        'dlr_rejected_requests_total{via="smpp"}': 2,
        'dlr_smpp_state{state="bound"}': 1,
        'dlr_smpp_state{state="disabled"}': 0,
      });
    } finally {
      await receiver.app.close();
      await gateway.close();
      await testDb.drop();
    }
  });
});
