/**
 * Reads the text of a `.env` file. Docker Compose reads the same file beside `docker-compose.yml`,
 * and the two readers disagree on two things: Node's (`util.parseEnv`) cuts an unquoted value at
 * its first `#`, where Compose starts a comment only at a `#` after a space; and Compose replaces
 * `$NAME` and `${NAME}` with a variable outside single quotes, where Node keeps them as written.
 * `API_TOKEN=abc#123` would be `abc` here and `abc#123` there, `API_TOKEN=pa$word` `pa$word` here
 * and `pa` there, so such a value is refused, naming its variable (never the value: it may be a
 * secret), unless the real environment sets that variable.
 */
import { parseEnv } from 'node:util';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';

type Settings = Record<string, string | undefined>;

const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)\s*=(.*)$/;
const QUOTES = ['"', "'", '`'];
const BYTE_ORDER_MARK = '\uFEFF';
/** A `#` right after the `=` or after another character: a comment to Node, not to Compose. */
const GLUED_HASH = /(?:^|\S)#/;
/** `$NAME` or `${…}`: a variable to Compose outside single quotes, text to Node. */
const VARIABLE = /\$[A-Za-z_{]/;

const DISAGREEMENTS = {
  hash:
    'a # inside an unquoted value, which Node reads as the start of a comment and Docker Compose as part of the value; ' +
    'put the value in quotes, or a space before a # that starts a comment',
  variable:
    'a $ before a name in a value outside single quotes, which Docker Compose replaces with a variable and Node keeps as ' +
    "written; put the value in single quotes ('…')",
} as const;

type Disagreement = keyof typeof DISAGREEMENTS;

/** The file's settings; `setElsewhere` names the variables the real environment sets, whose file value is not read. */
export function parseEnvFile(fileText: string, setElsewhere: (name: string) => boolean): Result<Settings> {
  // A byte order mark, as editors on Windows write it, is not part of the first name: Node's reader
  // took `\uFEFFDATABASE_URL` for a name of its own, and the receiver started on the embedded
  // database. Docker Compose skips it too.
  const text = fileText.startsWith(BYTE_ORDER_MARK) ? fileText.slice(BYTE_ORDER_MARK.length) : fileText;
  const disagreements = valuesReadDifferently(text).filter(([name]) => !setElsewhere(name));
  if (disagreements.length === 0) return ok(parseEnv(text));
  const problems = (Object.keys(DISAGREEMENTS) as Disagreement[]).flatMap((kind) => {
    const names = disagreements.filter(([, found]) => found === kind).map(([name]) => name);
    return names.length === 0 ? [] : [`${names.join(', ')}: ${DISAGREEMENTS[kind]}`];
  });
  return problem(problems.join('; and '));
}

/** The variables whose values Node and Docker Compose would read differently, and why. */
function valuesReadDifferently(text: string): Array<[string, Disagreement]> {
  const found: Array<[string, Disagreement]> = [];
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
    if (quote !== undefined && !value.slice(1).includes(quote)) openQuote = quote;
    if (quote === undefined && GLUED_HASH.test(rawValue)) found.push([name, 'hash']);
    if (quote !== "'" && VARIABLE.test(value)) found.push([name, 'variable']);
  }
  return found;
}
