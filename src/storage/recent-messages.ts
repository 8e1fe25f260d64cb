/**
 * The ids of the messages this receiver wrote most lately, up to a fixed number. Only a hint for
 * choosing the write path: a message missing here may still be stored (written before a restart,
 * by another receiver, or forgotten), and the write checks that under the message's lock.
 */
export class RecentMessages {
  // A Set keeps insertion order: the first id is the one written longest ago.
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  includesAny(messageIds: Iterable<string>): boolean {
    for (const id of messageIds) if (this.ids.has(id)) return true;
    return false;
  }

  add(messageIds: Iterable<string>): void {
    for (const id of messageIds) {
      this.ids.delete(id);
      this.ids.add(id);
    }
    for (const oldest of this.ids) {
      if (this.ids.size <= this.capacity) break;
      this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
