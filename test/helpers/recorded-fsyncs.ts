/**
 * Which files and folders the code under test fsynced, by path, read from /proc (Linux only). A
 * test file mocks `node:fs` with `withRecordedFsyncs`, and reads `synced`.
 */
import type * as fs from 'node:fs';

/** Paths fsynced since the test last emptied it, in order. */
export const synced: string[] = [];

/** `node:fs` whose fsyncSync records each path before it syncs. */
export function withRecordedFsyncs(actual: typeof fs): typeof fs {
  return {
    ...actual,
    fsyncSync: (descriptor: number) => {
      synced.push(actual.readlinkSync(`/proc/self/fd/${descriptor}`));
      actual.fsyncSync(descriptor);
    },
  };
}
