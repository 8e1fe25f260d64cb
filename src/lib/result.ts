/** Errors as values: a reader or check answers either what it made or the problem it found. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function problem<T = never>(text: string): Result<T> {
  return { ok: false, problem: text };
}
