/** Numbers read from Linux's `/proc` files; null where the file or the line is missing (not Linux). */
import { readFileSync } from 'node:fs';

/** The number that `pattern`'s first group finds in the file at `path`. */
export function procNumber(path: string, pattern: RegExp): number | null {
  try {
    const match = pattern.exec(readFileSync(path, 'utf8'));
    return match?.[1] === undefined ? null : Number(match[1]);
  } catch {
    return null;
  }
}
