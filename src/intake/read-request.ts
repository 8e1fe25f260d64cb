/**
 * Turns an intake request into reports: picks the reader by method and Content-Type, decodes the
 * body's charset, and gives each report its meaning. Every refusal says what is wrong.
 */
import type { Result } from '../lib/result.js';
import { problem } from '../lib/result.js';
import { MAX_PAYLOAD_DEPTH, nestsDeeperThan } from './payload-depth.js';
import type { InterpretedReport } from '../meaning/interpret-report.js';
import { interpretReport } from '../meaning/interpret-report.js';
import { readJsonReports } from './read-json.js';
import { readKeyValueReport } from './read-key-values.js';
import type { ReadReport, ReportFormat } from './read-report.js';
import { declaredXmlCharset, readXmlReport } from './read-xml.js';
import { strictDecoder } from './strict-decoder.js';
import { readUrlEncoded } from './url-encoded.js';

export interface IntakeRequest {
  readonly method: string;
  readonly contentType: string | undefined;
  /** The `Content-Encoding` header: a body compressed in transit is not read. */
  readonly contentEncoding?: string | undefined;
  /** The raw body; empty for GET. */
  readonly body: Buffer;
  /** The raw query string, without `?`. */
  readonly query: string;
}

export interface ReadRequest {
  readonly format: ReportFormat;
  /** Each report with its payload as JSON text, as it is stored (see payloadJsonOf). */
  readonly reports: ReadonlyArray<{ readonly report: InterpretedReport; readonly payloadJson: string }>;
}

/** 400: the request is not a report; 415: the body's type or charset is not one intake reads. */
export interface IntakeRefusal {
  readonly status: 400 | 415;
  readonly problem: string;
}

export const ACCEPTED_CONTENT_TYPES = ['application/json', 'application/xml', 'text/xml', 'application/x-www-form-urlencoded'];

export function readIntakeRequest(request: IntakeRequest): { ok: true; value: ReadRequest } | { ok: false; refusal: IntakeRefusal } {
  const read = readReports(request);
  if (!read.ok) return read;
  const reports: Array<{ report: InterpretedReport; payloadJson: string }> = [];
  for (const [index, item] of read.value.reports.entries()) {
    const where = read.value.reports.length > 1 ? `report [${index}]: ` : '';
    if (nestsDeeperThan(item.payload, MAX_PAYLOAD_DEPTH)) {
      return refuse(400, `${where}the report is nested more than ${MAX_PAYLOAD_DEPTH} levels deep`);
    }
    const report = interpretReport(item.report);
    if (!report.ok) return refuse(400, `${where}${report.problem}`);
    reports.push({ report: report.value, payloadJson: payloadJsonOf(item) });
  }
  return { ok: true, value: { format: read.value.format, reports } };
}

/**
 * A JSON body that is one report is kept as the text that arrived: stored as it came, and not
 * written out again. The reports of an array, and what XML or key/value pairs were read into, are
 * written out as JSON.
 */
function payloadJsonOf(item: ReadReport): string {
  return item.payloadText ?? JSON.stringify(item.payload);
}

function readReports(
  request: IntakeRequest,
): { ok: true; value: { format: ReportFormat; reports: ReadReport[] } } | { ok: false; refusal: IntakeRefusal } {
  if (request.method === 'GET') {
    return withFormat('query', readKeyValues(request.query, 'utf-8'));
  }
  // LINK's key/value reports come by GET or POST: a POST with nothing in its body and pairs in its
  // query string is read as a GET is, whatever its Content-Type says. Refused with 415 or "the body
  // is empty", it was sent again and again and never stored.
  if (request.body.length === 0 && request.query !== '') {
    const reports = readKeyValues(request.query, 'utf-8');
    return withFormat('query', reports.ok ? reports : problem(`the body is empty, and the query string is not a report: ${reports.problem}`));
  }
  const encoding = request.contentEncoding?.trim().toLowerCase() ?? '';
  if (encoding !== '' && encoding !== 'identity') {
    return refuse(415, `Content-Encoding "${encoding.slice(0, 40)}" is not taken; send the body uncompressed`);
  }
  const contentType = parseContentType(request.contentType);
  const format = formatOf(contentType.mediaType);
  if (format === undefined) {
    const given = contentType.mediaType === '' ? 'no Content-Type' : `Content-Type "${contentType.mediaType}"`;
    return refuse(415, `${given} is not taken; send one of ${ACCEPTED_CONTENT_TYPES.join(', ')}`);
  }
  const charset = contentType.charset ?? (format === 'xml' ? declaredXmlCharset(request.body) : undefined);
  const text = decodeBody(request.body, charset);
  if (!text.ok) return refuse(text.status, text.problem);
  if (text.value.trim() === '') return refuse(400, 'the body is empty');
  const reports = readBodyAs(format, text.value, contentType.charset ?? 'utf-8');
  return withFormat(format, withContentTypeHint(reports, format, contentType.mediaType, text.value));
}

function readBodyAs(format: 'json' | 'xml' | 'form', text: string, charset: string): Result<ReadReport[]> {
  switch (format) {
    case 'json':
      return readJsonReports(text);
    case 'xml':
      return readXmlReport(text);
    case 'form':
      return readKeyValues(text, charset);
  }
}

const CONTENT_TYPE_FOR: Readonly<Record<'json' | 'xml', string>> = { json: 'application/json', xml: 'application/xml' };

/**
 * A body that could not be read as its Content-Type, but looks like another format (JSON sent as a
 * form, XML as JSON), is refused naming the Content-Type to send: "id is required" would hide it.
 */
function withContentTypeHint(reports: Result<ReadReport[]>, format: 'json' | 'xml' | 'form', mediaType: string, text: string): Result<ReadReport[]> {
  if (reports.ok) return reports;
  const looks = formatBodyLooksLike(text);
  if (looks === undefined || looks === format) return reports;
  return problem(`the body looks like ${looks.toUpperCase()} but came as ${mediaType}: send it as ${CONTENT_TYPE_FOR[looks]} (read as sent: ${reports.problem})`);
}

/** By its first character: `{` or `[` starts JSON, `<` XML; a form can start with anything. */
function formatBodyLooksLike(text: string): 'json' | 'xml' | undefined {
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') return 'json';
  if (first === '<') return 'xml';
  return undefined;
}

function readKeyValues(text: string, charset: string): Result<ReadReport[]> {
  const pairs = readUrlEncoded(text, charset);
  return pairs.ok ? readKeyValueReport(pairs.value) : pairs;
}

function withFormat(
  format: ReportFormat,
  reports: Result<ReadReport[]>,
): { ok: true; value: { format: ReportFormat; reports: ReadReport[] } } | { ok: false; refusal: IntakeRefusal } {
  return reports.ok ? { ok: true, value: { format, reports: reports.value } } : refuse(400, reports.problem);
}

function refuse(status: 400 | 415, text: string): { ok: false; refusal: IntakeRefusal } {
  return { ok: false, refusal: { status, problem: text } };
}

interface ContentType {
  readonly mediaType: string;
  readonly charset: string | undefined;
}

export function parseContentType(header: string | undefined): ContentType {
  const [mediaType = '', ...parameters] = (header ?? '').split(';');
  let charset: string | undefined;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() === 'charset') charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { mediaType: mediaType.trim().toLowerCase(), charset };
}

function formatOf(mediaType: string): 'json' | 'xml' | 'form' | undefined {
  if (mediaType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(mediaType)) return 'json';
  if (mediaType === 'application/xml' || mediaType === 'text/xml' || /^application\/[\w.+-]+\+xml$/.test(mediaType)) return 'xml';
  if (mediaType === 'application/x-www-form-urlencoded') return 'form';
  return undefined;
}

/** LINK sends UTF-8; another charset is decoded when the body names it, and must then be valid too. */
function decodeBody(body: Buffer, charset = 'utf-8'): { ok: true; value: string } | { ok: false; status: 400 | 415; problem: string } {
  const decoder = strictDecoder(charset, 'drop');
  if (decoder === null) {
    return { ok: false, status: 415, problem: `charset "${charset.slice(0, 40)}" is not supported; send UTF-8` };
  }
  try {
    return { ok: true, value: decoder.decode(body) };
  } catch {
    return { ok: false, status: 400, problem: `the body is not valid ${decoder.encoding.toUpperCase()}` };
  }
}
