/**
 * The network to the PostgreSQL server goes silent: a link or a firewall drops every packet, so the
 * connections stay open and no error ever comes, where a stopped server refuses at once. Reports go
 * on being acknowledged from the journal, refused ones answered `400`, lookups and `/readyz`
 * answered (`503`) rather than left waiting, and once the network speaks again every acknowledged
 * report is stored.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Database } from '../../src/storage/database.js';
import { openDatabase } from '../../src/storage/database.js';
import { createTestApp, deliveredReport, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase, serverUrl } from '../helpers/database.js';
import { waitFor } from '../helpers/receiver-process.js';
import type { SilentNetwork } from '../helpers/silent-network.js';
import { startSilentNetwork } from '../helpers/silent-network.js';

let testDb: TestDatabase;
let network: SilentNetwork;
let database: Database;
let app: App;

beforeEach(async () => {
  if (serverUrl === null) return;
  testDb = await createTestDatabase();
  network = await startSilentNetwork(serverUrl);
  database = openDatabase({ databaseUrl: network.url, dataDir: '', schema: testDb.schema ?? undefined, poolSize: 2, writeTimeoutMs: 500, readTimeoutMs: 500 });
  app = await createTestApp(database, { JOURNAL_RETRY_MS: '100' });
});
afterEach(async () => {
  if (serverUrl === null) return;
  network.speak();
  await app.close();
  await database.close();
  await network.close();
  await testDb.drop();
});

/** The request's answer, and how long it took. */
async function timed<T>(request: () => Promise<T>): Promise<{ answer: T; ms: number }> {
  const startedAt = performance.now();
  const answer = await request();
  return { answer, ms: performance.now() - startedAt };
}

const readiness = () => app.inject({ method: 'GET', url: '/readyz' });

describe.runIf(serverUrl !== null)('a network to the database that goes silent', () => {
  it('acknowledges reports from the journal, refuses bad ones at once, answers lookups and /readyz with 503, and stores every report once it speaks again', async () => {
    expect((await postJson(app, deliveredReport({ id: 'before-silence' }))).statusCode).toBe(200);
    // The query API's connections are open when the network goes silent.
    expect((await app.inject({ method: 'GET', url: '/messages/before-silence' })).statusCode).toBe(200);
    network.silence();

    // A refused report is answered at once, though keeping it for /rejected cannot be done.
    const refused = await timed(() => app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: '{"id":' }));
    expect(refused.answer.statusCode).toBe(400);
    expect(refused.ms).toBeLessThan(2_000);

    const acknowledged = ['before-silence'];
    for (let index = 0; index < 20; index++) {
      const id = `in-silence-${String(index)}`;
      const { answer, ms } = await timed(() => postJson(app, deliveredReport({ id })));
      expect(answer.statusCode).toBe(200);
      // The first waits for the write deadline; the journal takes the rest at once.
      expect(ms).toBeLessThan(3_000);
      acknowledged.push(id);
    }
    // More lookups and health checks than the query API has connections, each answered within its
    // time (500 ms for a lookup here, counting its wait for a connection; 2 s for the health check).
    for (let index = 0; index < 5; index++) {
      const lookup = await timed(() => app.inject({ method: 'GET', url: '/messages/before-silence' }));
      expect(lookup.answer.statusCode).toBe(503);
      expect(lookup.ms).toBeLessThan(2_000);
      const ready = await timed(readiness);
      expect(ready.answer.statusCode).toBe(503);
      expect(ready.answer.json()).toMatchObject({ database: 'down', storingTo: 'journal' });
      expect(ready.ms).toBeLessThan(3_000);
    }

    network.speak();
    await waitFor('the journal to be stored', async () => (await readiness()).json<{ storingTo: string }>().storingTo === 'database', 30_000);
    expect((await readiness()).statusCode).toBe(200);
    for (const id of acknowledged) {
      expect((await app.inject({ method: 'GET', url: `/messages/${id}` })).statusCode, id).toBe(200);
    }
    // And it goes on storing directly.
    expect((await postJson(app, deliveredReport({ id: 'after-silence' }))).statusCode).toBe(200);
    expect((await readiness()).json()).toMatchObject({ storingTo: 'database', journalReports: 0 });
  }, 120_000);

  it('acknowledges the first report within the write deadline when the silence comes before any write connection is open', async () => {
    network.silence();
    // Its write waits for a connection that cannot open: the wait counts toward the write's 500 ms.
    const first = await timed(() => postJson(app, deliveredReport({ id: 'first-in-silence' })));
    expect(first.answer.statusCode).toBe(200);
    expect(first.ms).toBeLessThan(2_000);
    network.speak();
    await waitFor('the journal to be stored', async () => (await readiness()).json<{ storingTo: string }>().storingTo === 'database', 30_000);
    expect((await app.inject({ method: 'GET', url: '/messages/first-in-silence' })).statusCode).toBe(200);
  }, 60_000);

  it('is ready again soon after the network speaks, though the connections open in the silence stay silent', async () => {
    expect((await postJson(app, deliveredReport({ id: 'before-long-silence' }))).statusCode).toBe(200);
    // Both connections of the query API open when the network goes silent.
    const lookups = await Promise.all([0, 1].map(() => app.inject({ method: 'GET', url: '/messages/before-long-silence' })));
    expect(lookups.map((lookup) => lookup.statusCode)).toEqual([200, 200]);
    network.silence();
    expect((await postJson(app, deliveredReport({ id: 'in-long-silence' }))).statusCode).toBe(200);
    for (let index = 0; index < 3; index++) expect((await readiness()).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/messages/before-long-silence' })).statusCode).toBe(503);

    // Work left waiting on the old connections would hold the query API's pool until they speak.
    network.speakToNewConnections();
    await waitFor('the receiver to be ready', async () => (await readiness()).statusCode === 200, 15_000);
    await waitFor('the journal to be stored', async () => (await readiness()).json<{ storingTo: string }>().storingTo === 'database', 15_000);
    expect((await app.inject({ method: 'GET', url: '/messages/in-long-silence' })).statusCode).toBe(200);
  }, 120_000);
});
