/** Reads the query API's parameters; each problem names its parameter. */
import { clip, parseDateTime, parseIntegerText, parseResultCode, withPlusOffset } from '../intake/field-values.js';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';
import { textProblem } from '../meaning/delivery-report.js';
import type { MessageStatus } from '../meaning/message-state.js';
import { MESSAGE_STATUSES } from '../meaning/message-state.js';
import type { ListingPlace, MessageFilter } from '../storage/read-messages.js';
import type { SummaryFilter } from '../storage/summarize-messages.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** The summary's parameters, which the listing takes too. */
export interface SummaryQuery {
  readonly refId?: string | undefined;
  readonly destination?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
}

export interface ListQuery extends SummaryQuery {
  /** Given again (`status=failed&status=unknown`, as query builders write a list), a list. */
  readonly status?: string | readonly string[] | undefined;
  readonly resultCode?: string | undefined;
  readonly limit?: string | undefined;
  readonly cursor?: string | undefined;
}

/** A limit above the most is served as the most; below 1 or not a number is an error. */
function parseLimit(text: string | undefined): Result<number> {
  if (text === undefined || text === '') return ok(DEFAULT_LIMIT);
  const limit = parseIntegerText('limit', text, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  if (!limit.ok) return limit;
  if (limit.value < 1) return problem(`limit must be at least 1 (one above ${MAX_LIMIT} is served as ${MAX_LIMIT}), got ${clip(text.trim())}`);
  return ok(Math.min(limit.value, MAX_LIMIT));
}

/**
 * An id or refId to look up. One that intake would refuse (a NUL character, which PostgreSQL's text
 * cannot hold) names no stored message; sent to the database it failed the lookup with a 500.
 */
export function parseLookupText(name: string, text: string): Result<string> {
  const unstorable = textProblem(text);
  return unstorable === null ? ok(text) : problem(`${name} ${unstorable}, which no stored message has`);
}

const LIST_PARAMETERS = ['refId', 'destination', 'status', 'resultCode', 'since', 'until', 'limit', 'cursor'] as const;
const SUMMARY_PARAMETERS = ['refId', 'destination', 'since', 'until'] as const;

/**
 * A parameter that is one of `known` but for its spelling (`refid`, `ref_id`, `Status`, `refId[]`)
 * is refused: ignored, it would answer an unfiltered list that reads as the filtered one. Other
 * names (a browser's cache-busting `_=…`) are left alone.
 */
function misspelledParameter(query: object, known: readonly string[]): Result<null> {
  const bySpelling = new Map(known.map((name) => [spelling(name), name]));
  for (const given of Object.keys(query)) {
    const meant = bySpelling.get(spelling(given));
    if (meant === undefined || meant === given) continue;
    // `refId[]=…`, as PHP and some query builders write a list: unread, it too answered unfiltered.
    if (BRACKETS.test(given)) return problem(`${clip(given)} is not a parameter: give ${meant} once, as ${meant}=…`);
    return problem(`${clip(given)} is not a parameter; did you mean ${meant}? (names are case-sensitive)`);
  }
  return ok(null);
}

/**
 * Names the list is often asked with that mean something it takes otherwise. Ignored, `id=m1` would
 * answer every message, and `offset=50` the first page again, each reading as the answer asked for.
 */
const ONE_MESSAGE = ['id', 'messageid'].map((name) => [name, ': one message is GET /messages/{messageId}'] as const);
/** The time window's and the number's names as people write them; the listing and the summary take both. */
const FILTERS_NAMED_OTHERWISE = [
  ...['from', 'after'].map((name) => [name, '; did you mean since?'] as const),
  ['to', '; did you mean until (a time) or destination (the number sent to)?'] as const,
  ['before', '; did you mean until?'] as const,
  ...['msisdn', 'recipient', 'phone', 'number'].map((name) => [name, '; did you mean destination?'] as const),
];
const NAMED_OTHERWISE: ReadonlyMap<string, string> = new Map([
  ...ONE_MESSAGE,
  ...['offset', 'page'].map((name) => [name, ': the next page is cursor={the nextCursor of this one}'] as const),
  ...FILTERS_NAMED_OTHERWISE,
]);

/** For `GET /summary`, which counts messages rather than listing them. */
const SUMMARY_NAMED_OTHERWISE: ReadonlyMap<string, string> = new Map([...ONE_MESSAGE, ...FILTERS_NAMED_OTHERWISE]);

/** For `GET /rejected`, whose next page is named by a header. */
const REJECTED_NAMED_OTHERWISE: ReadonlyMap<string, string> = new Map(
  ['offset', 'page'].map((name) => [name, ': the next page is the one the Link header of this one names (cursor=…)'] as const),
);

function parameterNamedOtherwise(query: object, namedOtherwise: ReadonlyMap<string, string>): Result<null> {
  for (const given of Object.keys(query)) {
    const advice = namedOtherwise.get(spelling(given));
    if (advice === undefined) continue;
    return problem(`${clip(given)} is not a parameter${advice}`);
  }
  return ok(null);
}

/** A name's trailing `[]` or `[key]`. */
const BRACKETS = /\[[^\]]*\]$/;

function spelling(name: string): string {
  return name.toLowerCase().replace(BRACKETS, '').replace(/[-_]/g, '');
}

export function parseListQuery(query: ListQuery): Result<MessageFilter> {
  const misspelled = misspelledParameter(query, LIST_PARAMETERS);
  if (!misspelled.ok) return misspelled;
  const namedOtherwise = parameterNamedOtherwise(query, NAMED_OTHERWISE);
  if (!namedOtherwise.ok) return namedOtherwise;
  const limit = parseLimit(query.limit);
  if (!limit.ok) return limit;
  const common = parseCommonFilter(query);
  if (!common.ok) return common;
  let filter: MessageFilter = { ...common.value, limit: limit.value };
  const status = typeof query.status === 'string' ? query.status : query.status?.join(',');
  if (status !== undefined && status !== '') {
    const statuses = parseStatuses(status);
    if (!statuses.ok) return statuses;
    filter = { ...filter, statuses: statuses.value };
  }
  if (query.resultCode !== undefined && query.resultCode !== '') {
    const resultCode = parseResultCode(query.resultCode);
    if (!resultCode.ok) return resultCode;
    filter = { ...filter, resultCode: resultCode.value };
  }
  if (query.cursor !== undefined && query.cursor !== '') {
    const before = decodeCursor(query.cursor);
    if (!before.ok) return before;
    filter = { ...filter, before: before.value };
  }
  return ok(filter);
}

/**
 * A `refId`, a destination and a window of the time the newest report was received, as the listing
 * and the summary take them.
 */
function parseCommonFilter(query: SummaryQuery): Result<SummaryFilter> {
  let filter: SummaryFilter = {};
  if (query.refId !== undefined && query.refId !== '') {
    const refId = parseLookupText('refId', query.refId);
    if (!refId.ok) return refId;
    filter = { ...filter, refId: refId.value };
  }
  if (query.destination !== undefined && query.destination !== '') {
    const destination = parseDestination(query.destination);
    if (!destination.ok) return destination;
    filter = { ...filter, destination: destination.value };
  }
  for (const name of ['since', 'until'] as const) {
    const text = query[name];
    if (text === undefined || text === '') continue;
    const time = parseTimeParameter(name, text);
    if (!time.ok) return time;
    filter = { ...filter, [name]: time.value };
  }
  // Swapped bounds would answer nothing, which reads as "no such messages".
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) {
    return problem(`since (${filter.since.toISOString()}) is after until (${filter.until.toISOString()}): no time lies between them; swap them`);
  }
  return ok(filter);
}

/** A number with its country code, its `+` or none. */
const PHONE_NUMBER = /^\+?\d+$/;
/** A `+` sent as it is, read from the query string as a space. */
const UNESCAPED_PLUS = /^ \d/;
/** The national trunk prefix written after a country code, as in `+44 (0)20 7946 0000`. */
const TRUNK_PREFIX = /\(0\)/g;

/**
 * The number a message was sent to, as people write it into a URL: `+4799999999`, whose `+` not
 * written `%2B` arrives as a space, `4799999999`, or in groups (`+47 999 99 999`, `+47-999-99-999`,
 * `+44 (0)20 7946 0000`, whose `(0)` is dialled only from within the country), all one number.
 * Text that is no such number (an alphanumeric address) is matched as given.
 */
export function parseDestination(text: string): Result<string> {
  const typed = (UNESCAPED_PLUS.test(text) ? `+${text.slice(1)}` : text).trim();
  const compact = typed.replace(TRUNK_PREFIX, '').replace(/[\s().-]/g, '');
  const number = PHONE_NUMBER.test(compact) ? compact : typed;
  if (number.replace(/^\++/, '') === '') return problem(`destination names no number: "${clip(text)}"`);
  return parseLookupText('destination', number);
}

/**
 * The summary's parameters: a `refId`, a destination, a window, or several. Without any it would
 * count every message stored, reading them all, which no one asking about an order, a number or a
 * day means.
 */
export function parseSummaryQuery(query: SummaryQuery): Result<SummaryFilter> {
  const misspelled = misspelledParameter(query, SUMMARY_PARAMETERS);
  if (!misspelled.ok) return misspelled;
  const namedOtherwise = parameterNamedOtherwise(query, SUMMARY_NAMED_OTHERWISE);
  if (!namedOtherwise.ok) return namedOtherwise;
  const filter = parseCommonFilter(query);
  if (!filter.ok || filter.value.refId !== undefined || filter.value.destination !== undefined || filter.value.since !== undefined) return filter;
  return problem(
    'give refId, destination, since, or several: the messages of an order, sent to a number, or of a window of time (since, and until when it should end before now)',
  );
}

/** One status, or several joined by commas (`failed,unknown`): messages of any of them. */
function parseStatuses(text: string): Result<MessageStatus[]> {
  const statuses: MessageStatus[] = [];
  for (const name of text.split(',').map((each) => each.trim())) {
    const status = MESSAGE_STATUSES.find((known) => known === name);
    if (status === undefined) {
      const given = name === '' ? `an empty one in "${clip(text)}"` : `"${clip(name)}"`;
      return problem(`status must be one of ${MESSAGE_STATUSES.join(', ')}, or several joined by commas (status=failed,unknown); got ${given}`);
    }
    if (!statuses.includes(status)) statuses.push(status);
  }
  return ok(statuses);
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `since` or `until` as people type them into a URL: a date alone (`2026-11-01`) is its midnight in
 * UTC, and an offset whose `+` was not written `%2B` arrives as a space and is read as meant.
 */
function parseTimeParameter(name: string, text: string): Result<Date> {
  const typed = text.trim();
  if (!DATE_ONLY.test(typed)) return parseDateTime(name, withPlusOffset(typed));
  const midnight = parseDateTime(name, `${typed}T00:00:00Z`);
  return midnight.ok ? midnight : problem(`${name} is not a real date: "${clip(typed)}"`);
}

export interface RejectedQuery {
  readonly limit?: string | undefined;
  readonly cursor?: string | undefined;
}

export interface RejectedFilter {
  readonly limit: number;
  /** The id the page starts below; null for the newest. */
  readonly before: number | null;
}

export function parseRejectedQuery(query: RejectedQuery): Result<RejectedFilter> {
  const misspelled = misspelledParameter(query, ['limit', 'cursor']);
  if (!misspelled.ok) return misspelled;
  const namedOtherwise = parameterNamedOtherwise(query, REJECTED_NAMED_OTHERWISE);
  if (!namedOtherwise.ok) return namedOtherwise;
  const limit = parseLimit(query.limit);
  if (!limit.ok) return limit;
  if (query.cursor === undefined || query.cursor === '') return ok({ limit: limit.value, before: null });
  const before = decodeRejectedCursor(query.cursor);
  return before.ok ? ok({ limit: limit.value, before: before.value }) : before;
}

/** Opaque to callers, as the listing's are; inside, the kept request's number the next page starts below. */
function encodeRejectedCursor(before: number): string {
  return Buffer.from(`r1:${before}`).toString('base64url');
}

function decodeRejectedCursor(cursor: string): Result<number> {
  const match = /^r1:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match?.[1] !== undefined) return ok(Number(match[1]));
  // A cursor of GET /messages names a place in that listing, not among the refused requests.
  return problem('cursor is not one GET /rejected gave out');
}

/**
 * The `Link` header (RFC 8288) naming the listing's next page: a query on the same path with the
 * page's filter and limit and the next cursor, so that a client that follows links needs nothing
 * else. The filter is written as it was read, so the link asks for exactly the same messages.
 */
export function nextMessagesLink(filter: MessageFilter, nextCursor: string): string {
  const parameters = new URLSearchParams();
  if (filter.refId !== undefined) parameters.set('refId', filter.refId);
  if (filter.destination !== undefined) parameters.set('destination', filter.destination);
  if (filter.statuses !== undefined) parameters.set('status', filter.statuses.join(','));
  if (filter.resultCode !== undefined) parameters.set('resultCode', String(filter.resultCode));
  if (filter.since !== undefined) parameters.set('since', filter.since.toISOString());
  if (filter.until !== undefined) parameters.set('until', filter.until.toISOString());
  parameters.set('limit', String(filter.limit));
  parameters.set('cursor', nextCursor);
  return nextLink(parameters);
}

/** The `Link` header naming the next page of `GET /rejected`. */
export function nextRejectedLink(limit: number, before: number): string {
  return nextLink(new URLSearchParams({ limit: String(limit), cursor: encodeRejectedCursor(before) }));
}

function nextLink(parameters: URLSearchParams): string {
  return `<?${parameters.toString()}>; rel="next"`;
}

/** Opaque to callers; inside, the place in the listing the next page starts after. */
export function encodeCursor(before: ListingPlace): string {
  return Buffer.from(`v2:${before.receivedAtMicros}:${before.seq}`).toString('base64url');
}

function decodeCursor(cursor: string): Result<ListingPlace> {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^v2:(-?\d{1,17}):(\d{1,15})$/.exec(text);
  if (match?.[1] !== undefined && match[2] !== undefined) return ok({ receivedAtMicros: Number(match[1]), seq: Number(match[2]) });
  // Receivers before the listing ordered by time gave out `v1:` cursors, by arrival number alone.
  if (/^v1:\d{1,15}$/.test(text)) return problem('cursor is from an earlier version of this service, which ordered pages otherwise: start again from the first page');
  return problem('cursor is not one this service gave out');
}
