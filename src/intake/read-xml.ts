/**
 * Reads an XML body: one report under any root element, each field a child element; or the same
 * inside wrapping elements, or several such reports side by side in one document. Custom
 * parameters come as child elements (`<customParameters><received>…</received></customParameters>`)
 * or as `<entry><key>…</key><value>…</value></entry>` items.
 */
import { EntityDecoder } from '@nodable/entities';
import { XMLParser } from 'fast-xml-parser';
import { SyntaxValidator } from 'fast-xml-validator';
import type { CustomParameters, ReportField } from '../meaning/delivery-report.js';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';
import { clip } from './field-values.js';
import type { ReadReport } from './read-report.js';
import { MAX_REPORTS_PER_REQUEST } from './read-report.js';
import { reportFieldNamed, reportFromText } from './text-report.js';

/** Every element is read as a list of its occurrences, so a repeated field is seen, not overwritten. */
type XmlNode = string | XmlElement;
interface XmlElement {
  readonly [name: string]: XmlNode[] | string | undefined;
}

const TEXT = '#text';

/**
 * Element names the parser refuses (`constructor`, `prototype`, `__proto__`: the whole document
 * fails) or renames (`toString` becomes `__toString`) to keep its objects safe. A custom parameter
 * may be named so, and a refused report is sent again forever; so each such name is marked before
 * the parser sees it, with a character no XML name holds, and unmarked as the element is read.
 */
const GUARDED_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);
const GUARD_MARK = '#';

function guardName(name: string): string {
  return GUARDED_NAMES.has(name) ? GUARD_MARK + name : name;
}

function elementName(key: string): string {
  return key.startsWith(GUARD_MARK) && key !== TEXT ? key.slice(GUARD_MARK.length) : key;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  removeNSPrefix: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  // XML's own entities (`&amp;`, `&lt;`, …) and character references (`&#248;`, `&#xF8;`), the
  // parser's own decoder; no HTML names (`&nbsp;`), which XML without a DTD lacks. A reference to
  // NUL stops the reading: left out, as the parser would, it made `<id>ab&#0;c</id>` message `abc`.
  entityDecoder: new EntityDecoder({ ncr: { nullNCR: 'throw' } }),
  isArray: () => true,
  transformTagName: guardName,
});

/** `<?xml version="1.0" encoding="ISO-8859-1"?>`: the declaration's encoding, readable as ASCII. */
const DECLARED_ENCODING = /^(?:\xEF\xBB\xBF)?<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z][\w.:-]{0,39})["']/;

/**
 * The charset an XML body declares for itself, for a request whose Content-Type names none (RFC
 * 7303: a BOM first, then the `charset` parameter, then the declaration). A UTF-16 BOM says UTF-16;
 * a declaration says what it names, unless that is UTF-16, which a declaration readable as ASCII
 * cannot be. Undefined: UTF-8.
 */
export function declaredXmlCharset(body: Buffer): string | undefined {
  if (body[0] === 0xff && body[1] === 0xfe) return 'utf-16le';
  if (body[0] === 0xfe && body[1] === 0xff) return 'utf-16be';
  const declared = DECLARED_ENCODING.exec(body.subarray(0, 200).toString('latin1'))?.[1]?.toLowerCase();
  return declared === undefined || declared.startsWith('utf-16') ? undefined : declared;
}

export function readXmlReport(body: string): Result<ReadReport[]> {
  // A DOCTYPE is how entity expansion and external entities get in; reports never need one.
  if (/<!DOCTYPE/i.test(body)) return problem('XML with a DOCTYPE is not accepted');
  const syntax = checkSyntax(body);
  if (!syntax.ok) return syntax;
  const document = parse(body);
  if (!document.ok) return document;
  const roots = Object.entries(document.value).filter(([name]) => name !== TEXT);
  const [root] = roots;
  if (root === undefined) return problem('the XML document has no root element');
  const [rootKey, rootNodes] = root;
  const rootName = elementName(rootKey);
  const rootElement = Array.isArray(rootNodes) ? rootNodes[0] : undefined;
  const elements = rootElement === undefined || typeof rootElement === 'string' ? null : reportElements(rootElement);
  if (elements === null) {
    return problem(`the root element <${clip(rootName)}> holds no report fields: each field is an element of its own, such as <id> and <resultCode>`);
  }
  if (elements.length > MAX_REPORTS_PER_REQUEST) {
    return problem(`the document holds ${elements.length} reports; at most ${MAX_REPORTS_PER_REQUEST} are taken in one request`);
  }
  const reports: ReadReport[] = [];
  for (const [index, element] of elements.entries()) {
    const report = reportFromElement(element);
    if (!report.ok) return elements.length === 1 ? report : problem(`report [${index}]: ${report.problem}`);
    reports.push(report.value);
  }
  return ok(reports);
}

/** Wrapping elements gone through to find the report (`<Envelope><Body>` of SOAP is two). */
const MAX_WRAPPERS = 4;

/**
 * The elements that are reports: the root when it holds report fields; else, through at most
 * MAX_WRAPPERS elements that each wrap one element (`<reports><report>…`), the one that does, or
 * several elements side by side that each do, taken as a JSON array is. Null: no report here.
 */
function reportElements(root: XmlElement): XmlElement[] | null {
  let element = root;
  for (let depth = 0; depth <= MAX_WRAPPERS; depth += 1) {
    if (holdsReportField(element)) return [element];
    const inner = childElements(element)
      .flatMap(([, nodes]) => nodes)
      .filter((node): node is XmlElement => typeof node !== 'string');
    const [only] = inner;
    if (only === undefined) return null;
    if (inner.length > 1) return inner.every(holdsReportField) ? inner : null;
    element = only;
  }
  return null;
}

function holdsReportField(element: XmlElement): boolean {
  return childElements(element).some(([name]) => reportFieldNamed(name) !== undefined);
}

function parse(body: string): Result<XmlElement> {
  try {
    return ok(parser.parse(body) as XmlElement);
  } catch (error) {
    // The parser recurses per element: a document nested thousands deep exhausts the stack.
    if (error instanceof RangeError) return problem(`the XML is nested more than the receiver can read`);
    return problem(`the XML could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * A second root element is not well-formed XML, and the parser would read it beside the first,
 * where only the first was looked at: a report in it was answered 200 and never stored.
 */
const SYNTAX_RULES = { multipleRoots: false } as const;

function checkSyntax(body: string): Result<true> {
  try {
    SyntaxValidator.validate(body, SYNTAX_RULES);
    return ok(true);
  } catch (error) {
    const where = error instanceof Error && 'line' in error ? ` (line ${String(error.line)}, column ${'col' in error ? String(error.col) : '?'})` : '';
    return problem(`body is not well-formed XML: ${error instanceof Error ? error.message : String(error)}${where}`);
  }
}

function reportFromElement(element: XmlElement): Result<ReadReport> {
  const values = new Map<ReportField, string>();
  let customParameters: CustomParameters = {};
  let gateCustomParameters: CustomParameters = {};
  const seen = new Set<ReportField>();

  for (const [name, nodes] of childElements(element)) {
    const field = reportFieldNamed(name);
    if (field === undefined) continue;
    if (seen.has(field) || nodes.length > 1) return problem(`${field} is given more than once`);
    seen.add(field);
    const [node = ''] = nodes;
    if (field === 'customParameters' || field === 'gateCustomParameters') {
      const parameters = parametersOf(field, node);
      if (!parameters.ok) return parameters;
      if (field === 'customParameters') customParameters = parameters.value;
      else gateCustomParameters = parameters.value;
      continue;
    }
    if (typeof node !== 'string') return problem(`${field} must be text, not nested elements`);
    values.set(field, node);
  }

  const report = reportFromText({ values, customParameters, gateCustomParameters });
  return report.ok ? ok({ report: report.value, payload: plainObject(element) }) : report;
}

/**
 * `<received>…</received>` children, or `<entry><key>…</key><value>…</value></entry>` items. A
 * child that holds elements is kept as the object they make, as a JSON report's object is: custom
 * parameters are the operator's extra fields, and refusing the report for one lost its state.
 */
function parametersOf(field: string, node: XmlNode): Result<CustomParameters> {
  if (typeof node === 'string') {
    return node === '' ? ok({}) : problem(`${field} must hold elements, not text`);
  }
  const entries: Array<[string, unknown]> = [];
  const seen = new Set<string>();
  for (const [name, nodes] of childElements(node)) {
    for (const item of nodes) {
      const entry = name.toLowerCase() === 'entry' ? keyValueEntry(field, item) : ok<[string, unknown]>([name, plainObject(item)]);
      if (!entry.ok) return entry;
      const [key] = entry.value;
      // As in a form: a key given twice would otherwise keep whichever came last, unsaid.
      if (seen.has(key)) return problem(`${field}.${clip(key)} is given more than once`);
      seen.add(key);
      entries.push(entry.value);
    }
  }
  // fromEntries defines own properties, so a key such as `__proto__` stays a plain key.
  return ok(Object.fromEntries(entries));
}

function keyValueEntry(field: string, node: XmlNode): Result<[string, string]> {
  if (typeof node === 'string') return problem(`${field}: an <entry> must hold <key> and <value>`);
  let key: string | undefined;
  let value = '';
  for (const [name, nodes] of childElements(node)) {
    const [text] = nodes;
    if (typeof text !== 'string') continue;
    if (name.toLowerCase() === 'key') key = text;
    if (name.toLowerCase() === 'value') value = text;
  }
  if (key === undefined || key === '') return problem(`${field}: an <entry> has no <key>`);
  return ok([key, value]);
}

function childElements(element: XmlElement): Array<[string, XmlNode[]]> {
  const children: Array<[string, XmlNode[]]> = [];
  for (const [name, nodes] of Object.entries(element)) {
    if (name !== TEXT && Array.isArray(nodes)) children.push([elementName(name), nodes]);
  }
  return children;
}

/** The element as a plain object for storage: an element that occurs once is a value, not a list. */
function plainObject(node: XmlNode): unknown {
  if (typeof node === 'string') return node;
  const entries = childElements(node).map(([name, nodes]): [string, unknown] => [
    name,
    nodes.length === 1 && nodes[0] !== undefined ? plainObject(nodes[0]) : nodes.map(plainObject),
  ]);
  return Object.fromEntries(entries);
}
