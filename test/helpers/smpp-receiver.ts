/** A receiver bound to a fake SMPP gateway, on a test database, with its log lines captured. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { App } from '../../src/app.js';
import { buildApp } from '../../src/app.js';
import type { Environment } from '../../src/config/config.js';
import { readConfig } from '../../src/config/config.js';
import { loggerOptions } from '../../src/logging.js';
import type { Database } from '../../src/storage/database.js';
import { waitFor } from './receiver-process.js';
import { capturedLog } from './captured-log.js';

export interface SmppTestReceiver {
  readonly app: App;
  /** Every log line so far, as JSON text. */
  readonly logs: () => string;
  readonly smppState: () => Promise<string>;
  readonly waitForState: (state: 'bound' | 'connecting') => Promise<void>;
}

/** Short waits, so that a reconnect takes a fifth of a second rather than the gateway's 30. */
export const FAST_RECONNECT_MS = 200;

export async function startSmppReceiver(database: Database, env: Environment): Promise<SmppTestReceiver> {
  const log = capturedLog();
  const config = readConfig({
    DLR_ALLOWED_IPS: '127.0.0.1,::1',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-smpp-')),
    SMPP_RECONNECT_MS: String(FAST_RECONNECT_MS),
    ...env,
  });
  const app = await buildApp({ config, database, logger: pino(loggerOptions('debug', false), log.stream) });
  await app.ready();
  const smppState = async () => app.inject({ method: 'GET', url: '/readyz' }).then((response) => response.json<{ smpp: string }>().smpp);
  return {
    app,
    logs: () => log.text(),
    smppState,
    waitForState: (state) => waitFor(`the SMPP bind to be ${state}`, async () => (await smppState()) === state, 10_000),
  };
}
