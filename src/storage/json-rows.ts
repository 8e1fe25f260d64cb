/** Rows that PostgreSQL returns aggregated as JSON: times arrive as text, the rest as JSON types. */
export type JsonRow = Readonly<Record<string, unknown>>;

/** A time from a JSON row (PostgreSQL writes RFC 3339 with an offset), or null. */
export function timeOf(value: unknown): Date | null {
  return typeof value === 'string' ? new Date(value) : null;
}
