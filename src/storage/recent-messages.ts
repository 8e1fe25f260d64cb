/**
 * The messages this receiver wrote most lately, up to a fixed number. Only a hint for choosing the
 * write path: a message missing here may still be stored (written before a restart, by another
 * receiver, or forgotten), and a message found here may not be (see below); the write checks
 * under the message's lock either way.
 *
 * Two generations: ids are added to the newer one until it holds half the capacity, when it becomes
 * the older one and the oldest generation is dropped whole. An id written again is added to the
 * newer generation, so it stays. This keeps between half the capacity and all of it, the newest
 * first, at a constant cost per id.
 *
 * Each generation is a fixed table of 32-bit hashes of the ids, not a set of the ids: at thousands
 * of reports a second, sets of strings kept every id past a young collection, V8 moved them to its
 * old generation, and resident memory climbed for tens of seconds between full collections. The
 * tables are allocated once and never grow. Two ids with the same hash make a new message look
 * written lately (with 100,000 ids held, about one new message in 40,000), which only sends its
 * batch down the two-step write, correct for a new message too.
 */
export class RecentMessages {
  private newer: HashTable;
  private older: HashTable;
  private readonly generationSize: number;

  constructor(capacity: number) {
    this.generationSize = Math.max(1, Math.floor(capacity / 2));
    this.newer = new HashTable(this.generationSize);
    this.older = new HashTable(this.generationSize);
  }

  includesAny(messageIds: Iterable<string>): boolean {
    for (const id of messageIds) {
      const hash = hashOf(id);
      if (this.newer.has(hash) || this.older.has(hash)) return true;
    }
    return false;
  }

  add(messageIds: Iterable<string>): void {
    for (const id of messageIds) {
      this.newer.add(hashOf(id));
      if (this.newer.size >= this.generationSize) {
        const dropped = this.older;
        this.older = this.newer;
        dropped.clear();
        this.newer = dropped;
      }
    }
  }
}

/** Open addressing with linear probing, at most half full; 0 marks an empty slot, so no hash is 0. */
class HashTable {
  private readonly slots: Uint32Array;
  private readonly mask: number;
  size = 0;

  constructor(entries: number) {
    let length = 2;
    while (length < entries * 2) length *= 2;
    this.slots = new Uint32Array(length);
    this.mask = length - 1;
  }

  has(hash: number): boolean {
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const held = this.slots[slot];
      if (held === hash) return true;
      if (held === 0) return false;
    }
  }

  add(hash: number): void {
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const held = this.slots[slot];
      if (held === hash) return;
      if (held === 0) {
        this.slots[slot] = hash;
        this.size += 1;
        return;
      }
    }
  }

  clear(): void {
    this.slots.fill(0);
    this.size = 0;
  }
}

/** FNV-1a over the id's UTF-16 code units, never 0. */
function hashOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index += 1) {
    hash = Math.imul(hash ^ id.charCodeAt(index), 0x01000193);
  }
  return hash >>> 0 || 1;
}
