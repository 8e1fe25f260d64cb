/** `npm run migrate`: brings the configured database's schema up to date, then exits. */
import { environmentWithEnvFile, readConfig } from '../config/config.js';
import { openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';

const config = readConfig(environmentWithEnvFile(process.env));
const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
try {
  const applied = await migrateToLatest(database.db);
  process.stdout.write(applied.length === 0 ? 'schema is up to date\n' : `applied: ${applied.join(', ')}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
}
