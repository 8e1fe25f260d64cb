/**
 * The ids of the messages this receiver wrote most lately, up to a fixed number. Only a hint for
 * choosing the write path: a message missing here may still be stored (written before a restart,
 * by another receiver, or forgotten), and the write checks that under the message's lock.
 *
 * Two generations: ids are added to the newer one until it holds half the capacity, when it becomes
 * the older one and the oldest generation is dropped whole. An id written again is added to the
 * newer generation, so it stays. This keeps between half the capacity and all of it, the newest
 * first, at a constant cost per id: a single set kept in exact order cost a delete and a re-insert
 * per id, and a walk to trim it, on every batch.
 */
export class RecentMessages {
  private newer = new Set<string>();
  private older = new Set<string>();
  private readonly generationSize: number;

  constructor(capacity: number) {
    this.generationSize = Math.max(1, Math.floor(capacity / 2));
  }

  includesAny(messageIds: Iterable<string>): boolean {
    for (const id of messageIds) if (this.newer.has(id) || this.older.has(id)) return true;
    return false;
  }

  add(messageIds: Iterable<string>): void {
    for (const id of messageIds) {
      this.newer.add(id);
      if (this.newer.size >= this.generationSize) {
        this.older = this.newer;
        this.newer = new Set();
      }
    }
  }
}
