/**
 * The text `Date#toISOString` writes (`2015-11-19T09:37:35.000Z`), in about half its time: every
 * report's fingerprint writes two, and every message the query API answers several. Years outside
 * 1000-9999, which toISOString writes in its own ways, are left to it.
 */
export function isoTime(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return date.toISOString();
  return (
    `${year}-${twoDigits(date.getUTCMonth() + 1)}-${twoDigits(date.getUTCDate())}` +
    `T${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())}` +
    `.${threeDigits(date.getUTCMilliseconds())}Z`
  );
}

function twoDigits(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}

function threeDigits(value: number): string {
  return value < 10 ? `00${value}` : value < 100 ? `0${value}` : `${value}`;
}
