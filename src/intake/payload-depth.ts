/**
 * How deeply a payload nests. PostgreSQL's JSON reader refuses very deep documents (it runs out of
 * stack), so a report nested beyond any real one is refused at the door, not by the database.
 */
export const MAX_PAYLOAD_DEPTH = 32;

/** Whether objects and arrays in the value nest deeper than `max`; walks without recursion. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (!isNested(value)) return false;
  // Only objects and arrays are queued: most of a report's values are neither.
  const pending: Array<{ value: object; depth: number }> = [{ value, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next.depth > max) return true;
    for (const child of Object.values(next.value)) {
      if (isNested(child)) pending.push({ value: child, depth: next.depth + 1 });
    }
  }
  return false;
}

function isNested(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
