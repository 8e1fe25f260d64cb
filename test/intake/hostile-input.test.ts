/**
 * Hostile and broken requests: each gets the right 4xx with a message naming the problem, nothing
 * of it is stored, and the receiver keeps taking good reports.
 */
import { describe, expect, it } from 'vitest';
import { deliveredReport, getMessage, postJson, useTestReceiver } from '../helpers/app.js';

const receiver = useTestReceiver();

const json = 'application/json';
const xml = 'application/xml';

async function post(contentType: string, payload: string | Buffer) {
  return receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': contentType }, payload });
}

/** Distinct CJK characters, 3 bytes each in UTF-8, in no order that compresses. */
function cjk(count: number): string {
  return Array.from({ length: count }, (_, index) => String.fromCodePoint(0x4e00 + ((index * 7919) % 20_000))).join('');
}

function nested(depth: number): string {
  return `{"id":"deep","resultCode":1001,"customParameters":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
}

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<report><id>&lol3;</id><resultCode>1001</resultCode></report>`;
const EXTERNAL_ENTITY = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><report><id>&x;</id><resultCode>1001</resultCode></report>`;

describe('hostile input', () => {
  it.each([
    ['JSON nested 10,000 deep', json, nested(10_000), 'nested'],
    ['an array nested 10,000 deep', json, `${'['.repeat(10_000)}${']'.repeat(10_000)}`, 'must be a JSON object'],
    ['XML nested 5,000 deep (10,000 is over the body limit)', xml, `<report><id>deep-xml</id><resultCode>1001</resultCode>${'<a>'.repeat(5_000)}x${'</a>'.repeat(5_000)}</report>`, 'nested'],
    ['a number too large for a double', json, '{"id":"big","resultCode":1e400}', 'resultCode'],
    ['segments as an object', json, '{"id":"seg","resultCode":1001,"segments":{}}', 'segments must be a number'],
    ['operator as an array', json, '{"id":"op","resultCode":1001,"operator":["a"]}', 'operator must be a string'],
    ['refId as a boolean', json, '{"id":"ref","resultCode":1001,"refId":true}', 'refId must be a string'],
    ['a refId of 10,000 characters', json, JSON.stringify({ id: 'long-ref', resultCode: 1001, refId: 'r'.repeat(10_000) }), 'refId is longer than'],
    ['a refId of 1,024 CJK characters, 3,072 bytes', json, JSON.stringify({ id: 'wide-ref', resultCode: 1001, refId: cjk(1024) }), 'refId is longer than 2048 bytes of UTF-8'],
    ['more reports than one request may carry', json, JSON.stringify(Array.from({ length: 1001 }, (_, index) => ({ id: `many-${index}`, resultCode: 1001 }))), 'at most 1000'],
    ['a NUL character in a JSON id', json, '{"id":"nul\\u0000id","resultCode":1001}', 'NUL'],
    ['a raw NUL byte in JSON', json, Buffer.from('{"id":"raw\u0000","resultCode":1001}'), 'not valid JSON'],
    ['a NUL character in customParameters.source', json, '{"id":"nul-source","resultCode":1001,"customParameters":{"source":"a\\u0000b"}}', 'customParameters.source contains a NUL'],
    ['half a surrogate pair in an operator', json, '{"id":"lone-operator","resultCode":1001,"operator":"\\ud800"}', 'operator contains half of a UTF-16 surrogate pair'],
    ['half a surrogate pair in an id', json, '{"id":"lone\\udc00id","resultCode":1001}', 'id contains half of a UTF-16 surrogate pair'],
    ['half a surrogate pair in customParameters.destination', json, '{"id":"lone-destination","resultCode":1001,"customParameters":{"destination":"\\ud83d+47"}}', 'customParameters.destination contains half'],
    ['an id of "$" and a part', json, '{"id":"$1","resultCode":1001}', 'no message id'],
    ['an id with a part of 99999999999', json, '{"id":"abc$99999999999","resultCode":1001}', 'part'],
    ['billion laughs', xml, BILLION_LAUGHS, 'DOCTYPE'],
    ['an external entity', xml, EXTERNAL_ENTITY, 'DOCTYPE'],
    ['UTF-16 sent as UTF-8', json, Buffer.from(JSON.stringify({ id: 'utf16', resultCode: 1001 }), 'utf16le'), 'not valid JSON'],
    ['invalid UTF-8 in XML', xml, Buffer.concat([Buffer.from('<r><id>'), Buffer.from([0xc3, 0x28]), Buffer.from('</id><resultCode>1</resultCode></r>')]), 'UTF-8'],
  ])('%s: 400 naming the problem', async (_name, contentType, payload, problem) => {
    const response = await post(contentType, payload);
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toContain(problem);
  });

  it('stores a report nested 32 levels deep, arrays counted, and refuses one nested 33 naming the limit', async () => {
    // The report is the first level and customParameters the second.
    const withArrays = `{"id":"deep-32","resultCode":1001,"customParameters":${'{"a":['.repeat(15)}{"b":1}${']}'.repeat(15)}}`;
    expect((await post(json, withArrays)).statusCode).toBe(200);
    expect((await getMessage(receiver.app, 'deep-32')).reports).toHaveLength(1);
    const tooDeep = await post(json, nested(32));
    expect(tooDeep.statusCode).toBe(400);
    expect(tooDeep.json<{ message: string }>().message).toBe('the report is nested more than 32 levels deep');
  });

  it('stores a refId of 2048 bytes of UTF-8, the most its index holds, and finds the message by it', async () => {
    const refId = `${cjk(682)}ab`;
    expect(Buffer.byteLength(refId)).toBe(2048);
    expect((await postJson(receiver.app, { id: 'widest-ref', resultCode: 1001, refId })).statusCode).toBe(200);
    const page = await receiver.app.inject({ method: 'GET', url: `/messages?refId=${encodeURIComponent(refId)}` });
    expect(page.json<{ messages: Array<{ messageId: string }> }>().messages.map((message) => message.messageId)).toEqual(['widest-ref']);
  });

  it.each(['$', 'abc$', 'abc$x', 'abc$-1'])('reads the id %s, which names no part, as a whole message of that id', async (id) => {
    const response = await postJson(receiver.app, { id, resultCode: 1001 });
    expect(response.statusCode).toBe(200);
    const message = await getMessage(receiver.app, id);
    expect(message.parts).toEqual([expect.objectContaining({ part: 0 })]);
    expect(message.reports.map((report) => report.part)).toEqual([null]);
  });

  it('keeps fields it does not know, and NUL characters inside custom parameters, in the payload', async () => {
    const response = await post(json, '{"id":"odd-fields","resultCode":1001,"surprise":{"nested":[1,2]},"customParameters":{"a":"x\\u0000"}}');
    expect(response.statusCode).toBe(200);
    const message = await getMessage(receiver.app, 'odd-fields');
    expect(message.reports[0]?.payload).toMatchObject({ surprise: { nested: [1, 2] }, customParameters: { a: 'x\u0000' } });
  });

  it('stores characters outside the Basic Multilingual Plane, a whole surrogate pair, in every field', async () => {
    const response = await post(json, '{"id":"emoji-\\ud83d\\ude00","resultCode":1001,"operator":"\\ud83d\\ude00","customParameters":{"source":"\\ud83d\\ude00"}}');
    expect(response.statusCode).toBe(200);
    const message = await getMessage(receiver.app, 'emoji-\u{1F600}');
    expect(message).toMatchObject({ messageId: 'emoji-\u{1F600}', operator: '\u{1F600}', source: '\u{1F600}' });
  });

  it('reads a UTF-16 body that says so in its charset', async () => {
    const body = Buffer.from(JSON.stringify({ id: 'utf16-labelled', resultCode: 1001 }), 'utf16le');
    const response = await post('application/json; charset=utf-16le', body);
    expect(response.statusCode).toBe(200);
    expect((await getMessage(receiver.app, 'utf16-labelled')).status).toBe('delivered');
  });

  it('reads CDATA as text and ignores processing instructions in XML', async () => {
    const body = '<?xml version="1.0"?><?xml-stylesheet href="x.xsl"?><report><id><![CDATA[cdata-1]]></id><resultCode>1001</resultCode></report>';
    const response = await post(xml, body);
    expect(response.statusCode).toBe(200);
    expect((await getMessage(receiver.app, 'cdata-1')).status).toBe('delivered');
  });

  it('keeps taking reports after all of the above', async () => {
    const response = await postJson(receiver.app, deliveredReport({ id: 'after-hostile' }));
    expect(response.statusCode).toBe(200);
    expect((await getMessage(receiver.app, 'after-hostile')).status).toBe('delivered');
  });
});
