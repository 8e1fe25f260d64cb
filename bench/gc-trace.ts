/**
 * V8's full collections, read from a server's `--trace-gc` lines. Resident memory rises and falls
 * with the garbage waiting for the next collection; what a full collection leaves is what the
 * process still holds, so a heap that stays the same after each one over a run is memory that
 * does not grow.
 */

export interface FullCollection {
  /** Milliseconds since the process started, as V8 prints them. */
  readonly atMs: number;
  /** The heap's size once the collection was done, MiB. */
  readonly heapAfterMiB: number;
}

/** `[pid:0x…]  11058 ms: Mark-Compact 100.7 (132.2) -> 34.2 (96.7) MB, …`; V8's MB are MiB. */
const FULL_COLLECTION = /(\d+) ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/g;

export function fullCollections(trace: string): FullCollection[] {
  return [...trace.matchAll(FULL_COLLECTION)].map((match) => ({ atMs: Number(match[1]), heapAfterMiB: Number(match[2]) }));
}

/**
 * One line on the heap after the full collections between `fromMs` and `toMs`: their number, and
 * the smallest and largest heap they left in the window's first and second half.
 */
export function describeHeapAfterCollections(collections: readonly FullCollection[], fromMs: number, toMs: number): string {
  const inWindow = collections.filter((collection) => collection.atMs >= fromMs && collection.atMs <= toMs);
  if (inWindow.length === 0) return "Heap left by V8's full collections (--trace-gc): V8 ran none during the run";
  const middle = (fromMs + toMs) / 2;
  const range = (half: readonly FullCollection[]) => {
    if (half.length === 0) return 'none';
    const sizes = half.map((collection) => collection.heapAfterMiB);
    return `${Math.min(...sizes).toFixed(1)}-${Math.max(...sizes).toFixed(1)}`;
  };
  return (
    `Heap left by V8's full collections (--trace-gc), MiB: ${inWindow.length} collections; ` +
    `first half of the run ${range(inWindow.filter((collection) => collection.atMs < middle))}, ` +
    `second half ${range(inWindow.filter((collection) => collection.atMs >= middle))}`
  );
}
