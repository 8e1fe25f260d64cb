/**
 * Reads the text of a `.env` file. Node's reader (`util.parseEnv`) cuts an unquoted value at its
 * first `#`; Docker Compose, which reads the same file beside `docker-compose.yml`, starts a comment
 * only at a `#` after a space. `API_TOKEN=abc#123` would be `abc` here and `abc#123` there, so such
 * a value is refused, naming its variable (never the value: it may be a secret), unless the real
 * environment sets that variable.
 */
import { parseEnv } from 'node:util';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';

type Settings = Record<string, string | undefined>;

const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)\s*=(.*)$/;
const QUOTES = ['"', "'", '`'];
/** A `#` right after the `=` or after another character: a comment to Node, not to Compose. */
const GLUED_HASH = /(?:^|\S)#/;

/** The file's settings; `setElsewhere` names the variables the real environment sets, whose file value is not read. */
export function parseEnvFile(text: string, setElsewhere: (name: string) => boolean): Result<Settings> {
  const glued = variablesWithGluedHash(text).filter((name) => !setElsewhere(name));
  if (glued.length > 0) {
    return problem(
      `${glued.join(', ')}: a # inside an unquoted value, which Node reads as the start of a comment and Docker Compose as part ` +
        'of the value; put the value in quotes, or a space before a # that starts a comment',
    );
  }
  return ok(parseEnv(text));
}

function variablesWithGluedHash(text: string): string[] {
  const names: string[] = [];
  let openQuote: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    // A quoted value may run over several lines: those lines are its text, not assignments.
    if (openQuote !== null) {
      if (line.includes(openQuote)) openQuote = null;
      continue;
    }
    const assignment = ASSIGNMENT.exec(line);
    const [name, rawValue] = [assignment?.[1], assignment?.[2]];
    if (name === undefined || rawValue === undefined) continue;
    const value = rawValue.trimStart();
    const quote = QUOTES.find((mark) => value.startsWith(mark));
    if (quote !== undefined) {
      if (!value.slice(1).includes(quote)) openQuote = quote;
    } else if (GLUED_HASH.test(rawValue)) {
      names.push(name);
    }
  }
  return names;
}
