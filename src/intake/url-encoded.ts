/**
 * The name/value pairs of `application/x-www-form-urlencoded` text (a form body, a query string),
 * read as the URL standard reads them, with one difference: `%` escapes whose bytes are not text in
 * the body's charset are refused, not turned into U+FFFD. Replacing them would store a report under
 * an id that was never sent (`abc%FF` and `abc%FE` would both become `abc\uFFFD`), and the escapes
 * of a form in ISO-8859-1 (`%F8` for `ø`) would lose their characters to UTF-8.
 */
import type { TextDecoder } from 'node:util';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';
import { clip } from './field-values.js';
import { strictDecoder } from './strict-decoder.js';

/** Adjacent escapes are decoded together: a character can take several bytes. */
const ESCAPE_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/**
 * The pairs in order. `encoding` is a name TextDecoder knows (the body's charset, already checked),
 * UTF-8 for a query string. A malformed escape (`%zz`, a `%` at the end) stays as written, and a
 * leading `?` is dropped (`/dlr??id=…`, from a base URL that already ended in `?`), both as
 * `new URLSearchParams(text)` does.
 */
export function readUrlEncoded(text: string, encoding = 'utf-8'): Result<Array<[string, string]>> {
  const decoder = strictDecoder(encoding, 'keep');
  if (decoder === null) return problem(`charset "${clip(encoding)}" is not supported; send UTF-8`);
  const pairs: Array<[string, string]> = [];
  for (const sequence of (text.startsWith('?') ? text.slice(1) : text).split('&')) {
    if (sequence === '') continue;
    const at = sequence.indexOf('=');
    const name = unescaped(at === -1 ? sequence : sequence.slice(0, at), decoder);
    if (name === null) return problem(`a parameter name has a % escape that is not ${decoder.encoding.toUpperCase()} text`);
    const value = at === -1 ? '' : unescaped(sequence.slice(at + 1), decoder);
    if (value === null) return problem(`${clip(name)} has a % escape that is not ${decoder.encoding.toUpperCase()} text`);
    pairs.push([name, value]);
  }
  return ok(pairs);
}

function unescaped(component: string, decoder: TextDecoder): string | null {
  const spaced = component.includes('+') ? component.replaceAll('+', ' ') : component;
  if (!spaced.includes('%')) return spaced;
  try {
    return spaced.replace(ESCAPE_RUN, (run) => decoder.decode(bytesOf(run)));
  } catch {
    return null;
  }
}

function bytesOf(run: string): Uint8Array {
  const bytes = new Uint8Array(run.length / 3);
  for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(run.slice(index * 3 + 1, index * 3 + 3), 16);
  return bytes;
}
