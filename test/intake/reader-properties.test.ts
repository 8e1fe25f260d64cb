/**
 * Property tests for the format readers: whatever arrives, a reader answers either reports or a
 * problem it names, and never throws. Inputs are random and also shaped like reports, so that the
 * checks past the syntax are reached too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Result } from '../../src/lib/result.js';
import { readIntakeRequest } from '../../src/intake/read-request.js';
import { readJsonReports } from '../../src/intake/read-json.js';
import { readKeyValueReport } from '../../src/intake/read-key-values.js';
import { readXmlReport } from '../../src/intake/read-xml.js';
import { readUrlEncoded } from '../../src/intake/url-encoded.js';

const FIELDS = ['id', 'refId', 'resultCode', 'operator', 'operatorResultCode', 'segments', 'timestamp', 'sentTimestamp', 'customParameters', 'gateCustomParameters'];

const fieldName = fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 }));
const fieldText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('1001', '-1', '1e400', '2015-11-19T09:37:35Z', '2015-02-30T10:00:00Z', 'abc$3', '$', 'abc$999', '\u0000', ''),
);

function expectAnswer(result: Result<unknown[]>): void {
  if (result.ok) expect(result.value.length).toBeGreaterThan(0);
  else expect(result.problem).toMatch(/\S/);
}

describe('format readers', () => {
  it('JSON: any text gives reports or a named problem', () => {
    const reportLike = fc.dictionary(fieldName, fc.jsonValue({ maxDepth: 3 })).map((value) => JSON.stringify(value));
    const arrays = fc.array(fc.dictionary(fieldName, fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 }).map((value) => JSON.stringify(value));
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), reportLike, arrays), (body) => { expectAnswer(readJsonReports(body)); }), { numRuns: 2_000 });
  });

  it('XML: any text gives reports or a named problem', () => {
    const element = fc.tuple(fieldName, fieldText).map(([name, text]) => {
      const tag = /^[A-Za-z_][\w.-]*$/.test(name) ? name : 'x';
      return `<${tag}>${text.replace(/[<&]/g, '')}</${tag}>`;
    });
    const reportLike = fc.array(element, { maxLength: 8 }).map((elements) => `<report>${elements.join('')}</report>`);
    fc.assert(fc.property(fc.oneof(fc.string(), reportLike), (body) => { expectAnswer(readXmlReport(body)); }), { numRuns: 2_000 });
  });

  it('key/value pairs: any pairs give a report or a named problem', () => {
    const pairs = fc.array(fc.tuple(fieldName, fieldText), { maxLength: 12 });
    fc.assert(fc.property(pairs, (entries) => { expectAnswer(readKeyValueReport(entries)); }), { numRuns: 2_000 });
  });

  it('url-encoded text: the pairs URLSearchParams reads, wherever its escapes are UTF-8, and else a named problem', () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('&', '=', '+', '%', '%2', '%zz', '%25', '%26', '%3D', '%2B', '%C3%B8', '%F0%9F%93%A8', '%EF%BB%BF', '%FF', '%C3', '%e2%82'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join('')), (text) => {
        const read = readUrlEncoded(text);
        const standard = [...new URLSearchParams(text)];
        if (read.ok) expect(read.value).toEqual(standard);
        else expect(standard.flat().join('')).toContain('\uFFFD');
      }),
      { numRuns: 5_000 },
    );
  });

  it('a whole request: any method, Content-Type and bytes give reports or a 400/415 naming the problem', () => {
    const contentType = fc.oneof(
      fc.constantFrom('application/json', 'application/xml; charset=utf-16le', 'text/xml; charset=latin1', 'application/x-www-form-urlencoded', 'application/json; charset=nope'),
      fc.string({ maxLength: 30 }),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST'),
      contentType: fc.option(contentType, { nil: undefined }),
      body: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      query: fc.string({ maxLength: 80 }),
    });
    fc.assert(
      fc.property(request, (each) => {
        const read = readIntakeRequest(each);
        if (read.ok) expect(read.value.reports.length).toBeGreaterThan(0);
        else expect([400, 415]).toContain(read.refusal.status);
      }),
      { numRuns: 3_000 },
    );
  });
});
