/** RFC 3339 in UTC; whole seconds are written without a fraction (`2015-11-19T09:37:35Z`). */
export function rfc3339(date: Date): string;
export function rfc3339(date: Date | null): string | null;
export function rfc3339(date: Date | null): string | null {
  if (date === null) return null;
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
