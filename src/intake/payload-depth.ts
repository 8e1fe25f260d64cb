/**
 * How deeply a payload nests. PostgreSQL's JSON reader refuses very deep documents (it runs out of
 * stack), so a report nested beyond any real one is refused at the door, not by the database.
 */
export const MAX_PAYLOAD_DEPTH = 32;

/** Whether objects and arrays in the value nest deeper than `max`; walks without recursion. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > max) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth });
  }
  return false;
}
