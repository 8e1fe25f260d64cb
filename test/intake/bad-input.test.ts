import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deliveredReport, postJson, useTestReceiver } from '../helpers/app.js';

const receiver = useTestReceiver();

async function storedReportCount(): Promise<number> {
  const row = await receiver.testDb.database.db.selectFrom('reports').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  return row.count;
}

interface Rejected {
  reason: string;
  body: string;
  bodyBytes: number | null;
  contentType: string | null;
  method: string;
  path: string;
  remoteAddress: string | null;
  receivedAt: string;
}

async function latestRejected(): Promise<Rejected | undefined> {
  const response = await receiver.app.inject({ method: 'GET', url: '/rejected?limit=1' });
  return response.json<{ rejected: Rejected[] }>().rejected[0];
}

const json = 'application/json';
const xml = 'application/xml';
const form = 'application/x-www-form-urlencoded';

describe('a request that is not a report', () => {
  it.each([
    ['truncated JSON', json, '{"id":"bad-1","resultCode":10', 'not valid JSON'],
    ['a stray word in JSON', json, '{"id":"bad-17","resultCode":x1001}', "body is not valid JSON: Unexpected token 'x'"],
    ['an empty body', json, '', 'body is empty'],
    ['a JSON string', json, '"hello"', 'must be a JSON object'],
    ['an empty array', json, '[]', 'no reports'],
    ['no id', json, JSON.stringify({ resultCode: 1001 }), 'id is required'],
    ['no resultCode', json, JSON.stringify({ id: 'bad-2' }), 'resultCode is required'],
    ['resultCode as text in JSON', json, JSON.stringify({ id: 'bad-3', resultCode: '1001' }), 'resultCode must be a number, got a string'],
    ['a fractional resultCode', json, JSON.stringify({ id: 'bad-4', resultCode: 1001.5 }), 'resultCode must be a whole number'],
    ['a resultCode out of range', json, JSON.stringify({ id: 'bad-5', resultCode: 1e12 }), 'resultCode must be between'],
    ['a resultCode of 20 digits in a form', form, 'id=bad-18&resultCode=99999999999999999999', 'resultCode must be between -2147483648 and 2147483647, got 99999999999999999999'],
    ['an id that is a number', json, JSON.stringify({ id: 17, resultCode: 1001 }), 'id must be a string, got a number'],
    ['segments as text in JSON', json, JSON.stringify({ id: 'bad-6', resultCode: 1001, segments: '2' }), 'segments must be a number'],
    ['a timestamp that is no date', json, JSON.stringify({ id: 'bad-7', resultCode: 1001, timestamp: 'yesterday' }), 'timestamp must be an RFC 3339 date-time'],
    ['an impossible date', json, JSON.stringify({ id: 'bad-8', resultCode: 1001, timestamp: '2015-02-30T10:00:00Z' }), 'timestamp is not a real date-time'],
    ['an offset from UTC no clock has', form, 'id=bad-15&resultCode=1001&sentTimestamp=2015-11-19T09:37:35%2B24:00', 'sentTimestamp is not a real date-time'],
    ['a time past the year 9999 in UTC', json, JSON.stringify({ id: 'bad-16', resultCode: 1001, timestamp: '9999-12-31T23:59:59-23:59' }), 'timestamp falls after the year 9999'],
    ['customParameters as text', json, JSON.stringify({ id: 'bad-9', resultCode: 1001, customParameters: 'x' }), 'customParameters must be an object'],
    ['a bad report inside an array', json, JSON.stringify([deliveredReport({ id: 'good-in-bad-array' }), { id: 'x' }]), 'report [1]: resultCode is required'],
    ['a part number out of range', json, JSON.stringify({ id: 'bad$999', resultCode: 1001 }), 'above the largest part number'],
    ['an id of 10,000 characters', json, JSON.stringify({ id: 'i'.repeat(10_000), resultCode: 1001 }), 'id is longer than 256'],
    ['malformed XML', xml, '<report><id>bad-10</id><resultCode>1001</report>', 'not well-formed XML'],
    ['XML with a DOCTYPE', xml, '<!DOCTYPE r [<!ENTITY a "aaaa">]><r><id>&a;</id><resultCode>1</resultCode></r>', 'DOCTYPE'],
    ['XML with resultCode as words', xml, '<r><id>bad-11</id><resultCode>delivered</resultCode></r>', 'resultCode must be a whole number'],
    ['XML with a field twice', xml, '<r><id>bad-12</id><ID>bad-13</ID><resultCode>1001</resultCode></r>', 'id is given more than once'],
    ['XML with a second root element, whose report would be left out', xml,
      '<r><id>bad-root-1</id><resultCode>1001</resultCode></r><r><id>bad-root-2</id><resultCode>1001</resultCode></r>', 'not well-formed XML: Multiple possible root nodes found'],
    ['XML with a custom parameter twice', xml,
      '<r><id>bad-param-twice</id><resultCode>1001</resultCode><customParameters><source>A</source><source>B</source></customParameters></r>',
      'customParameters.source is given more than once'],
    ['XML with a custom parameter twice as entries', xml,
      '<r><id>bad-entry-twice</id><resultCode>1001</resultCode><gateCustomParameters><entry><key>k</key><value>A</value></entry><entry><key>k</key><value>B</value></entry></gateCustomParameters></r>',
      'gateCustomParameters.k is given more than once'],
    ['a form without id', form, 'resultCode=1001', 'id is required'],
    ['a form with an id given twice', form, 'id=a&ID=b&resultCode=1001', 'id is given more than once'],
    ['a form with segments out of range', form, 'id=bad-14&resultCode=1001&segments=100000', 'segments must be between 0 and 255'],
    ['a NUL byte in the id', form, 'id=bad%00nul&resultCode=1001', 'NUL'],
    ['a reference to NUL in XML, which would else drop out of the id', xml, '<r><id>bad-ref&#0;nul</id><resultCode>1001</resultCode></r>', '&#0; (U+0000)'],
    ['a form id whose % escape is no UTF-8 character', form, 'id=bad-escape%FF&resultCode=1001', 'id has a % escape that is not UTF-8 text'],
    ['a form id with half a UTF-8 character', form, 'id=bad-escape%C3&resultCode=1001', 'id has a % escape that is not UTF-8 text'],
    ['a form parameter name whose % escape is no UTF-8 character', form, 'id=bad-escape-name&resultCode=1001&customParameters.%E0=x', 'a parameter name has a % escape that is not UTF-8 text'],
    ['a JSON report sent as a form', form, JSON.stringify(deliveredReport({ id: 'json-as-form' })),
      'the body looks like JSON but came as application/x-www-form-urlencoded: send it as application/json (read as sent: id is required)'],
    ['an XML report sent as JSON', json, '<r><id>xml-as-json</id><resultCode>1001</resultCode></r>',
      'the body looks like XML but came as application/json: send it as application/xml (read as sent: body is not valid JSON: Unexpected token \'<\')'],
    ['a JSON array sent as XML', 'text/xml', JSON.stringify([deliveredReport({ id: 'json-as-xml' })]), 'the body looks like JSON but came as text/xml: send it as application/json'],
  ])('%s: 400 naming the problem, kept in /rejected, nothing stored', async (_name, contentType, payload, problem) => {
    const before = await storedReportCount();
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': contentType }, payload });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'Bad Request', message: expect.stringContaining(problem) as unknown });
    expect(await storedReportCount()).toBe(before);
    const rejected = await latestRejected();
    expect(rejected).toMatchObject({ reason: response.json<{ message: string }>().message, contentType, method: 'POST', path: '/dlr', remoteAddress: '127.0.0.1' });
    expect(rejected?.body).toBe(payload.slice(0, 4096));
    expect(rejected?.bodyBytes).toBe(Buffer.byteLength(payload));
  });

  it('keeps a refusal whose reason quotes a NUL character, showing it as U+FFFD', async () => {
    const payload = 'id=bad-nul-code&resultCode=%00';
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': form }, payload });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toBe('resultCode must be a whole number, got "\u0000"');
    expect(await latestRejected()).toMatchObject({ reason: 'resultCode must be a whole number, got "\uFFFD"', body: payload });
  });

  it('answers 400 to a GET without a report, keeping its query string', async () => {
    const response = await receiver.app.inject({ method: 'GET', url: '/dlr?resultCode=1001&customParameters.destination=%2B47' });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toContain('id is required');
    expect(await latestRejected()).toMatchObject({ method: 'GET', body: 'resultCode=1001&customParameters.destination=%2B47', bodyBytes: 50 });
  });

  it('answers 400 to a POST with an empty body whose query string is no report, naming both, and keeps its query string', async () => {
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr?source=link&resultCode=1001' });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toBe('the body is empty, and the query string is not a report: id is required');
    expect(await latestRejected()).toMatchObject({ method: 'POST', path: '/dlr', body: 'source=link&resultCode=1001' });
  });

  it('answers 400 to a GET whose % escape is no UTF-8 character, rather than store another id', async () => {
    const response = await receiver.app.inject({ method: 'GET', url: '/dlr?id=get-escape%E0%A4%A&resultCode=1001' });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toBe('id has a % escape that is not UTF-8 text');
    expect(await latestRejected()).toMatchObject({ method: 'GET', body: 'id=get-escape%E0%A4%A&resultCode=1001' });
    const stored = await receiver.testDb.database.db.selectFrom('reports').select('report_id').where('report_id', 'like', 'get-escape%').execute();
    expect(stored).toEqual([]);
  });

  it('answers 400 to a gate with characters outside a-z, A-Z, 0-9, - and _', async () => {
    const response = await postJson(receiver.app, deliveredReport({ id: 'bad-gate' }), '/dlr/bad.gate');
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toContain('gate');
  });

  it('answers 400 to a body that is not valid UTF-8, and keeps what arrived', async () => {
    const payload = Buffer.concat([Buffer.from('{"id":"bad-utf8-'), Buffer.from([0xff, 0xfe]), Buffer.from('","resultCode":1001}')]);
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': json }, payload });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toContain('not valid UTF-8');
    expect((await latestRejected())?.body).toContain('bad-utf8-');
  });

  it('cuts a kept body at 4 KiB, between characters, and gives the size that arrived', async () => {
    const payload = `{"id":"${'x'.repeat(8000)}"`;
    expect((await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': json }, payload })).statusCode).toBe(400);
    expect(await latestRejected()).toMatchObject({ body: payload.slice(0, 4096), bodyBytes: 8008 });

    // 4096 bytes end in the first byte of an ø: the kept body ends before it, with no U+FFFD.
    const notes = 'ø'.repeat(3000);
    const form = `id=${notes}`;
    expect((await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form })).statusCode).toBe(400);
    expect(await latestRejected()).toMatchObject({ body: `id=${'ø'.repeat(2046)}`, bodyBytes: 6003 });
  });
});

describe('a request intake does not read', () => {
  it.each([['text/plain'], ['application/octet-stream'], ['multipart/form-data; boundary=x']])(
    'answers 415 to Content-Type %s, naming the types it takes',
    async (contentType) => {
      const before = await storedReportCount();
      const response = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': contentType }, payload: 'id=x&resultCode=1001' });
      expect(response.statusCode).toBe(415);
      expect(response.json<{ message: string }>().message).toContain('application/json');
      expect(await storedReportCount()).toBe(before);
    },
  );

  it('answers 415 to a compressed body, naming its encoding, and keeps it', async () => {
    const before = await storedReportCount();
    const response = await receiver.app.inject({
      method: 'POST',
      url: '/dlr',
      headers: { 'content-type': json, 'content-encoding': 'gzip' },
      payload: gzipSync(JSON.stringify(deliveredReport({ id: 'gzipped' }))),
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toEqual({ error: 'Unsupported Media Type', message: 'Content-Encoding "gzip" is not taken; send the body uncompressed' });
    expect(await storedReportCount()).toBe(before);
    expect((await latestRejected())?.reason).toBe('Content-Encoding "gzip" is not taken; send the body uncompressed');
  });

  it('answers 415 to a charset it cannot decode', async () => {
    const response = await receiver.app.inject({
      method: 'POST',
      url: '/dlr',
      headers: { 'content-type': 'application/json; charset=klingon' },
      payload: JSON.stringify(deliveredReport({ id: 'charset' })),
    });
    expect(response.statusCode).toBe(415);
    expect(response.json<{ message: string }>().message).toContain('klingon');
  });

  it('answers 413 to a body over 64 KiB and stores nothing', async () => {
    const before = await storedReportCount();
    const payload = JSON.stringify(deliveredReport({ id: 'too-big', customParameters: { filler: 'x'.repeat(70_000) } }));
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr?source=link', headers: { 'content-type': json }, payload });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ error: 'Payload Too Large', message: 'the body is larger than 65536 bytes (DLR_BODY_LIMIT)' });
    expect(await storedReportCount()).toBe(before);
    // LINK would send it again and again: the operator finds the refusal, without its body (the
    // query string, which a report without a body is kept as, is not taken for it).
    expect(await latestRejected()).toMatchObject({
      reason: 'the body is larger than 65536 bytes (DLR_BODY_LIMIT)',
      body: '',
      bodyBytes: Buffer.byteLength(payload),
      path: '/dlr',
      contentType: json,
    });
  });

  it('does not store a report sent with HEAD', async () => {
    const before = await storedReportCount();
    const response = await receiver.app.inject({ method: 'HEAD', url: '/dlr?id=head-1&resultCode=1001' });
    expect(response.statusCode).toBe(405);
    expect(await storedReportCount()).toBe(before);
  });

  it('keeps serving reports after all of the above', async () => {
    expect((await postJson(receiver.app, deliveredReport({ id: 'after-bad-input' }))).statusCode).toBe(200);
  });
});
