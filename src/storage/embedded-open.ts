/**
 * Opens the embedded PostgreSQL (PGlite) as the receiver runs it, in the thread that calls: in
 * memory, or in its folder with commits that reach the disk (embedded-durability.ts) and a new
 * database made apart when there is none (embedded-creation.ts). The receiver calls it in the
 * database's own thread (embedded-worker.ts).
 */
import { PGlite } from '@electric-sql/pglite';
import type { OnDiskFailure } from './embedded-durability.js';
import { DURABLE_START_PARAMS, DurableNodeFS } from './embedded-durability.js';
import { createEmbeddedDatabaseApart } from './embedded-creation.js';
import { UPKEEP_START_PARAMS } from './embedded-upkeep.js';
import type { EmbeddedPlace } from './embedded-protocol.js';

export interface OpeningHooks {
  /** Must not return: nothing after the failure may be acknowledged. */
  readonly onDiskFailure: OnDiskFailure;
  readonly onCreation?: ((folder: string) => void) | undefined;
  readonly stopCreation?: AbortSignal | undefined;
}

export function openPglite(place: EmbeddedPlace, hooks: OpeningHooks): PGlite {
  const { folder } = place;
  if (folder === null) return new PGlite(place.dataDir, { startParams: [...PGlite.defaultStartParams, ...UPKEEP_START_PARAMS] });
  return new PGlite({
    fs: new DurableNodeFS(folder, hooks.onDiskFailure, () =>
      createEmbeddedDatabaseApart(folder, { onCreation: hooks.onCreation, signal: hooks.stopCreation }),
    ),
    startParams: [...DURABLE_START_PARAMS, ...UPKEEP_START_PARAMS],
  });
}
