import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { deliveredReport, getMessage, numberErrorReport, postJson, useTestReceiver } from '../helpers/app.js';

const receiver = useTestReceiver({ DLR_ACK_BODY: 'ACK-RECEIVED' });

describe('JSON reports', () => {
  it('takes the REST document examples and answers 200 with the acknowledgement body', async () => {
    const delivered = await postJson(receiver.app, deliveredReport({ id: 'doc-delivered', refId: 'order-1' }));
    expect(delivered.statusCode).toBe(200);
    expect(delivered.headers['content-type']).toMatch(/^text\/plain/);
    expect(delivered.body).toBe('ACK-RECEIVED');

    const message = await getMessage(receiver.app, 'doc-delivered');
    expect(message).toMatchObject({
      messageId: 'doc-delivered',
      refId: 'order-1',
      status: 'delivered',
      final: true,
      resultCode: 1001,
      resultDescription: 'Billed and delivered',
      operator: 'no.telenor',
      segments: { total: 1, delivered: 1, failed: 0, unknown: 0, pending: 0 },
    });
    expect(message.parts).toEqual([
      {
        part: 0,
        status: 'delivered',
        final: true,
        resultCode: 1001,
        resultDescription: 'Billed and delivered',
        delivery: 'DELIVERED',
        billing: 'BILLED',
        operator: 'no.telenor',
        operatorResultCode: '2',
        sentTimestamp: '2015-11-19T09:37:35Z',
        timestamp: '2015-11-19T09:37:00Z',
        receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/) as unknown,
      },
    ]);
    expect(message.reports).toHaveLength(1);
    expect(message.reports[0]).toMatchObject({ id: 'doc-delivered', part: null, format: 'json', gate: null });
    expect(message.reports[0]?.payload).toEqual(deliveredReport({ id: 'doc-delivered', refId: 'order-1' }));

    const failed = await postJson(receiver.app, numberErrorReport({ id: 'doc-number-error' }));
    expect(failed.statusCode).toBe(200);
    expect(await getMessage(receiver.app, 'doc-number-error')).toMatchObject({
      status: 'failed',
      final: true,
      resultCode: 2106,
      resultDescription: 'Number error',
      operator: null,
    });
  });

  it('takes reports at a URL given with a trailing slash as at the URL without it', async () => {
    expect((await postJson(receiver.app, deliveredReport({ id: 'trailing-slash-post' }), '/dlr/')).statusCode).toBe(200);
    expect((await receiver.app.inject({ method: 'GET', url: '/dlr/?id=trailing-slash-get&resultCode=1001' })).statusCode).toBe(200);
    expect((await postJson(receiver.app, deliveredReport({ id: 'trailing-slash-gate' }), '/dlr/gate-7/')).statusCode).toBe(200);
    expect((await postJson(receiver.app, deliveredReport({ id: 'double-slash' }), '/dlr//')).statusCode).toBe(200);
    const gates = [['trailing-slash-post', null], ['trailing-slash-get', null], ['trailing-slash-gate', 'gate-7'], ['double-slash', null]] as const;
    for (const [id, gate] of gates) {
      expect((await getMessage(receiver.app, id)).reports[0], id).toMatchObject({ gate, status: 'delivered' });
    }
  });

  it('takes an array of reports in one request', async () => {
    const response = await postJson(receiver.app, [
      deliveredReport({ id: 'array-1$0', segments: 2 }),
      numberErrorReport({ id: 'array-1$1', segments: 2 }),
    ]);
    expect(response.statusCode).toBe(200);
    const message = await getMessage(receiver.app, 'array-1');
    expect(message.status).toBe('partially_delivered');
    expect(message.reports.map((report) => report.id)).toEqual(['array-1$0', 'array-1$1']);
  });

  it('stores a report sent alone as the JSON text that arrived, and each report of an array as JSON', async () => {
    // Spacing, a number written 1.50, a key that looks like an index, a key given twice: all kept
    // as sent (but for the whitespace around the object), where parsing and writing the report out
    // again would change each of them.
    const body = '{ "id": "as-sent-1", "resultCode": 1001, "b": 1.50, "2": "x", "b": 2 }\n';
    const alone = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: body });
    expect(alone.statusCode).toBe(200);
    expect(await postJson(receiver.app, [{ id: 'as-sent-2$0', resultCode: 1001 }, { id: 'as-sent-2$1', resultCode: 1001 }])).toMatchObject({
      statusCode: 200,
    });

    const stored = await receiver.testDb.database.db
      .selectFrom('reports')
      .select(['report_id', sql<string>`payload::text`.as('text')])
      .where('report_id', 'like', 'as-sent-%')
      .orderBy('report_id')
      .execute();
    expect(stored).toEqual([
      { report_id: 'as-sent-1', text: body.trim() },
      { report_id: 'as-sent-2$0', text: '{"id":"as-sent-2$0","resultCode":1001}' },
      { report_id: 'as-sent-2$1', text: '{"id":"as-sent-2$1","resultCode":1001}' },
    ]);
    // Read back through the API, the text is JSON like any other payload (the later "b" wins).
    expect((await getMessage(receiver.app, 'as-sent-1')).reports[0]?.payload).toEqual({ id: 'as-sent-1', resultCode: 1001, b: 2, 2: 'x' });
  });

  it('reads source and destination from customParameters, and custom parameters given as a key/value list', async () => {
    const response = await postJson(
      receiver.app,
      deliveredReport({
        id: 'json-params',
        customParameters: [
          { key: 'source', value: 'LINK' },
          { key: 'destination', value: '+4799999999' },
        ],
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(await getMessage(receiver.app, 'json-params')).toMatchObject({ source: 'LINK', destination: '+4799999999' });
  });

  it('treats null, empty and absent optional fields alike', async () => {
    const response = await postJson(receiver.app, { id: 'json-minimal', resultCode: 1005, refId: '', operator: null });
    expect(response.statusCode).toBe(200);
    expect(await getMessage(receiver.app, 'json-minimal')).toMatchObject({ refId: null, operator: null, status: 'pending', final: false });
  });

  it('stores a report with a code the table lacks, as unknown and not final', async () => {
    expect((await postJson(receiver.app, deliveredReport({ id: 'json-unlisted', resultCode: 4242 }))).statusCode).toBe(200);
    const message = await getMessage(receiver.app, 'json-unlisted');
    expect(message).toMatchObject({ status: 'unknown', final: false, resultCode: 4242, resultDescription: 'Unrecognised result code' });
    expect(message.parts[0]).toMatchObject({ delivery: 'UNKNOWN', billing: 'UNKNOWN' });
  });
});

describe('XML reports', () => {
  it('reads any root element with custom parameters as child elements', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
      <DeliveryReport>
        <refId>order-x1</refId><id>xml-children$1</id><operator>no.telia</operator>
        <sentTimestamp>2015-11-19T09:37:35Z</sentTimestamp><timestamp>2015-11-19T09:37:00Z</timestamp>
        <resultCode>1001</resultCode><operatorResultCode>2</operatorResultCode><segments>2</segments>
        <gateCustomParameters/>
        <customParameters><received>2015-11-19 10:37:36</received><destination>+4711111111</destination></customParameters>
      </DeliveryReport>`;
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/xml' }, payload: xml });
    expect(response.statusCode).toBe(200);
    const message = await getMessage(receiver.app, 'xml-children');
    expect(message).toMatchObject({ refId: 'order-x1', destination: '+4711111111', status: 'pending', segments: { total: 2, delivered: 1, pending: 1 } });
    expect(message.reports[0]).toMatchObject({ format: 'xml', part: 1 });
    expect(message.reports[0]?.payload).toMatchObject({
      id: 'xml-children$1',
      resultCode: '1001',
      customParameters: { received: '2015-11-19 10:37:36', destination: '+4711111111' },
    });
  });

  it('reads custom parameters as entry/key/value items, names in any case, as text/xml', async () => {
    const xml = `<report><ID>xml-entries</ID><RESULTCODE>1006</RESULTCODE><Operator>no.telenor</Operator>
      <customparameters>
        <entry><key>source</key><value>LINK</value></entry>
        <entry><key>destination</key><value>+4722222222</value></entry>
      </customparameters></report>`;
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'text/xml; charset=utf-8' }, payload: xml });
    expect(response.statusCode).toBe(200);
    expect(await getMessage(receiver.app, 'xml-entries')).toMatchObject({
      status: 'failed',
      resultCode: 1006,
      operator: 'no.telenor',
      source: 'LINK',
      destination: '+4722222222',
    });
  });

  it('stores a report whose custom parameter holds elements, as JSON stores one holding an object, and reads its addresses beside it', async () => {
    const xml = `<report><id>xml-nested-parameter</id><resultCode>1001</resultCode>
      <customParameters><network><mcc>242</mcc><mnc>01</mnc></network><destination>+4733333333</destination></customParameters>
      <gateCustomParameters><route><hop>a</hop><hop>b</hop></route></gateCustomParameters></report>`;
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/xml' }, payload: xml });
    expect(response.statusCode, response.body).toBe(200);
    const message = await getMessage(receiver.app, 'xml-nested-parameter');
    expect(message).toMatchObject({ status: 'delivered', destination: '+4733333333' });
    expect(message.reports[0]?.payload).toMatchObject({
      customParameters: { network: { mcc: '242', mnc: '01' }, destination: '+4733333333' },
      gateCustomParameters: { route: { hop: ['a', 'b'] } },
    });
  });

  it('reads custom parameters named as properties every JavaScript object has, as any other name', async () => {
    const xml = `<report><id>xml-object-names</id><resultCode>1001</resultCode>
      <customParameters><constructor>c</constructor><prototype>p</prototype><__proto__>x</__proto__><toString>t</toString><valueOf/></customParameters>
      <gateCustomParameters><hasOwnProperty>h</hasOwnProperty></gateCustomParameters></report>`;
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/xml' }, payload: xml });
    expect(response.statusCode, response.body).toBe(200);
    const payload = (await getMessage(receiver.app, 'xml-object-names')).reports[0]?.payload;
    expect(JSON.stringify(payload)).toBe(
      '{"id":"xml-object-names","resultCode":"1001","customParameters":{"constructor":"c","prototype":"p","__proto__":"x","toString":"t","valueOf":""},' +
        '"gateCustomParameters":{"hasOwnProperty":"h"}}',
    );
  });

  it('reads a body in the charset its XML declaration or BOM names when the Content-Type names none, and the Content-Type\'s first', async () => {
    const report = (id: string, encoding: string) =>
      `<?xml version="1.0" encoding="${encoding}"?><r><id>${id}</id><resultCode>1001</resultCode><customParameters><note>blåbær</note></customParameters></r>`;
    const post = (payload: Buffer, contentType: string) => receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': contentType }, payload });
    const noteOf = async (id: string) => ((await getMessage(receiver.app, id)).reports[0]?.payload as { customParameters: { note: string } }).customParameters.note;

    expect((await post(Buffer.from(report('xml-latin1', 'ISO-8859-1'), 'latin1'), 'text/xml')).statusCode).toBe(200);
    expect(await noteOf('xml-latin1')).toBe('blåbær');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(report('xml-utf16', 'UTF-16'), 'utf16le')]);
    expect((await post(utf16, 'application/xml')).statusCode).toBe(200);
    expect(await noteOf('xml-utf16')).toBe('blåbær');
    // The Content-Type's charset wins over the declaration.
    expect((await post(Buffer.from(report('xml-both', 'ISO-8859-1'), 'utf8'), 'application/xml; charset=utf-8')).statusCode).toBe(200);
    expect(await noteOf('xml-both')).toBe('blåbær');
    // A declaration of UTF-8 over Latin-1 bytes is still not UTF-8.
    const mislabelled = await post(Buffer.from(report('xml-mislabelled', 'UTF-8'), 'latin1'), 'text/xml');
    expect(mislabelled.statusCode).toBe(400);
    expect(mislabelled.json<{ message: string }>().message).toBe('the body is not valid UTF-8');
  });
});

describe('XML character references', () => {
  it('reads &#248; and &#xF8; as the characters they stand for, and &amp;#248; as the text &#248;', async () => {
    const xml =
      '<r><id>xml-ref-&#248;&#x41;</id><resultCode>1001</resultCode><operator>T&#xE9;l&#233;</operator>' +
      '<customParameters><note>&amp;#248; &#38;amp;</note></customParameters></r>';
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'text/xml' }, payload: xml });
    expect(response.statusCode, response.body).toBe(200);
    const message = await getMessage(receiver.app, 'xml-ref-øA');
    expect(message).toMatchObject({ operator: 'Télé' });
    expect(message.reports[0]?.payload).toMatchObject({ customParameters: { note: '&#248; &amp;' } });
  });

  it("reads XML's own named entities, and keeps an HTML name such as &nbsp;, which XML without a DTD lacks, as written", async () => {
    const xml = '<r><id>xml-named</id><resultCode>1001</resultCode><customParameters><note>&lt;&amp;&gt;&quot;&apos; a&nbsp;b&euro;</note></customParameters></r>';
    const response = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'text/xml' }, payload: xml });
    expect(response.statusCode, response.body).toBe(200);
    expect((await getMessage(receiver.app, 'xml-named')).reports[0]?.payload).toMatchObject({ customParameters: { note: '<&>"\' a&nbsp;b&euro;' } });
  });
});

describe('XML reports inside wrapping elements', () => {
  const postXml = (payload: string) => receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'text/xml' }, payload });

  it('finds a report inside wrapping elements, as in a SOAP envelope, and keeps the report element as its payload', async () => {
    const wrapped = await postXml('<DeliveryReports><DeliveryReport><id>xml-wrapped</id><resultCode>1001</resultCode></DeliveryReport></DeliveryReports>');
    expect(wrapped.statusCode, wrapped.body).toBe(200);
    expect((await getMessage(receiver.app, 'xml-wrapped')).reports.map((report) => report.payload)).toEqual([{ id: 'xml-wrapped', resultCode: '1001' }]);
    const soap = await postXml(
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/><soap:Body>' +
        '<dlr><id>xml-soap</id><resultCode>1006</resultCode></dlr></soap:Body></soap:Envelope>',
    );
    expect(soap.statusCode, soap.body).toBe(200);
    expect(await getMessage(receiver.app, 'xml-soap')).toMatchObject({ status: 'failed', resultCode: 1006 });
  });

  it('takes several reports side by side as a JSON array is: all of them, or none when one is bad', async () => {
    const report = (id: string, code: string) => `<report><id>${id}</id><resultCode>${code}</resultCode><segments>2</segments></report>`;
    const batch = await postXml(`<reports>${report('xml-batch$0', '1001')}${report('xml-batch$1', '1006')}</reports>`);
    expect(batch.statusCode, batch.body).toBe(200);
    expect(await getMessage(receiver.app, 'xml-batch')).toMatchObject({ status: 'partially_delivered', segments: { delivered: 1, failed: 1 } });

    const oneBad = await postXml(`<reports>${report('xml-half$0', '1001')}<report><id>xml-half$1</id></report></reports>`);
    expect(oneBad.statusCode).toBe(400);
    expect(oneBad.json()).toEqual({ error: 'Bad Request', message: 'report [1]: resultCode is required' });
    expect((await receiver.app.inject({ method: 'GET', url: '/messages/xml-half' })).statusCode).toBe(404);
  });

  it.each([
    ['elements that are no report', '<r><a><b>x</b></a><c><d>y</d></c></r>'],
    ['attributes instead of elements', '<r id="xml-attributes" resultCode="1001"/>'],
    ['a report under more than four wrappers', '<r><w1><w2><w3><w4><report><id>xml-deep</id><resultCode>1001</resultCode></report></w4></w3></w2></w1></r>'],
  ])('refuses a document holding %s, saying what a field is', async (_case, xml) => {
    const response = await postXml(xml);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: 'Bad Request',
      message: 'the root element <r> holds no report fields: each field is an element of its own, such as <id> and <resultCode>',
    });
  });
});

describe('key/value reports', () => {
  /** One report as a GET query string and another as a form body, each written as it came, unescaped. */
  async function sendUnescaped(query: string, formBody: string): Promise<void> {
    const get = await receiver.app.inject({ method: 'GET', url: `/dlr?${query}` });
    expect(get.statusCode, get.body).toBe(200);
    const form = await receiver.app.inject({
      method: 'POST',
      url: '/dlr',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: formBody,
    });
    expect(form.statusCode, form.body).toBe(200);
  }

  it('reads a time whose offset + was sent unescaped, and so arrived as a space, as the + it was', async () => {
    await sendUnescaped('id=kv-plus-get&resultCode=1001&timestamp=2015-11-19T10:37:00+01:00', 'id=kv-plus-form&resultCode=1001&sentTimestamp=2015-11-19 10:37:35.5+0100');
    expect((await getMessage(receiver.app, 'kv-plus-get')).parts[0]).toMatchObject({ timestamp: '2015-11-19T09:37:00Z' });
    expect((await getMessage(receiver.app, 'kv-plus-form')).parts[0]).toMatchObject({ sentTimestamp: '2015-11-19T09:37:35.500Z' });
  });

  it('reads an id whose + was sent unescaped, and so arrived as a space, as the + of LINK\'s base64 id', async () => {
    await sendUnescaped('id=Dcshuhod0PMAAAFQ+/PbnR3x$1&resultCode=1001&segments=2', 'id=QC5BGwiuYk0AAAFiQ08n+FO+&resultCode=1001');
    expect(await getMessage(receiver.app, 'Dcshuhod0PMAAAFQ+/PbnR3x')).toMatchObject({ segments: { total: 2, delivered: 1 } });
    expect(await getMessage(receiver.app, 'QC5BGwiuYk0AAAFiQ08n+FO+')).toMatchObject({ status: 'delivered' });
    // Sent escaped, it is the same report, stored once.
    const escaped = await receiver.app.inject({ method: 'GET', url: '/dlr?id=Dcshuhod0PMAAAFQ%2B%2FPbnR3x%241&resultCode=1001&segments=2' });
    expect(escaped.statusCode).toBe(200);
    expect((await getMessage(receiver.app, 'Dcshuhod0PMAAAFQ+/PbnR3x')).reports).toHaveLength(1);
  });

  it('reads a form body with names in any case and custom parameters in bracket form', async () => {
    const form = new URLSearchParams({
      ID: 'form-1',
      ResultCode: '1001',
      refid: 'order-f1',
      TIMESTAMP: '2015-11-19T09:37:00Z',
      segments: '1',
      'customParameters[destination]': '+4733333333',
      'gateCustomParameters[channel]': 'A',
    });
    const response = await receiver.app.inject({
      method: 'POST',
      url: '/dlr/my-gate_1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    });
    expect(response.statusCode).toBe(200);
    const message = await getMessage(receiver.app, 'form-1');
    expect(message).toMatchObject({ refId: 'order-f1', status: 'delivered', destination: '+4733333333' });
    expect(message.reports[0]).toMatchObject({ format: 'form', gate: 'my-gate_1' });
    expect(message.reports[0]?.payload).toMatchObject({ ID: 'form-1', 'customParameters[destination]': '+4733333333' });
  });

  it('reads the % escapes of a form in the charset it names, and keeps escapes that are not escapes as written', async () => {
    const latin1 = await receiver.app.inject({
      method: 'POST',
      url: '/dlr',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' },
      payload: 'id=form-latin1-%F8&resultCode=1001&customParameters.note=bl%E5b%E6r+syltet%F8y',
    });
    expect(latin1.statusCode).toBe(200);
    const message = await getMessage(receiver.app, 'form-latin1-ø');
    expect(message.reports[0]?.payload).toEqual({ id: 'form-latin1-ø', resultCode: '1001', 'customParameters.note': 'blåbær syltetøy' });

    const literal = await receiver.app.inject({ method: 'GET', url: '/dlr?id=get-100%25-%zz-%&resultCode=1001&customParameters.note=%F0%9F%93%A8%EF%BB%BF' });
    expect(literal.statusCode).toBe(200);
    const kept = await getMessage(receiver.app, 'get-100%-%zz-%');
    expect(kept.reports[0]?.payload).toMatchObject({ 'customParameters.note': '📨\uFEFF' });
  });

  it('reads a POST whose pairs come in its query string, with an empty body, as a GET, whatever its Content-Type', async () => {
    for (const [id, headers] of [['post-query-1', {}], ['post-query-2', { 'content-type': 'application/x-www-form-urlencoded' }], ['post-query-3', { 'content-type': 'application/json' }]] as const) {
      const response = await receiver.app.inject({ method: 'POST', url: `/dlr/gateQ?id=${id}&resultCode=1001&customParameters.destination=%2B4755555555`, headers });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.body).toBe('ACK-RECEIVED');
      const message = await getMessage(receiver.app, id);
      expect(message).toMatchObject({ status: 'delivered', destination: '+4755555555' });
      expect(message.reports[0]).toMatchObject({ format: 'query', gate: 'gateQ' });
    }
    // A body, when there is one, is the report: the query string is not read.
    const both = await receiver.app.inject({ method: 'POST', url: '/dlr?id=post-query-ignored&resultCode=1001', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'id=post-body-read&resultCode=1005' });
    expect(both.statusCode).toBe(200);
    expect(await getMessage(receiver.app, 'post-body-read')).toMatchObject({ status: 'pending' });
    expect((await receiver.app.inject({ method: 'GET', url: '/messages/post-query-ignored' })).statusCode).toBe(404);
  });

  it('reads a whole number written with a fraction of zeros as JSON reads it, and refuses any other fraction', async () => {
    await sendUnescaped('id=kv-zero-fraction$1&resultCode=1001.0&segments=2.00', 'id=kv-zero-fraction$0&resultCode=1005.000');
    expect(await getMessage(receiver.app, 'kv-zero-fraction')).toMatchObject({
      status: 'pending',
      segments: { total: 2, delivered: 1, failed: 0, unknown: 0, pending: 1 },
    });
    const xml = await receiver.app.inject({
      method: 'POST',
      url: '/dlr',
      headers: { 'content-type': 'application/xml' },
      payload: '<r><id>xml-zero-fraction</id><resultCode>1006.0</resultCode></r>',
    });
    expect(xml.statusCode, xml.body).toBe(200);
    expect(await getMessage(receiver.app, 'xml-zero-fraction')).toMatchObject({ status: 'failed', resultCode: 1006 });

    const fractional = await receiver.app.inject({ method: 'GET', url: '/dlr?id=kv-fraction&resultCode=1001.5' });
    expect(fractional.statusCode).toBe(400);
    expect(fractional.json<{ message: string }>().message).toBe('resultCode must be a whole number, got "1001.5"');
  });

  it('reads a GET query string with custom parameters in dot form', async () => {
    const query = new URLSearchParams({
      id: 'get-1',
      resultcode: '1005',
      'CustomParameters.source': 'LINK',
      'customParameters.destination': '+4744444444',
    });
    const response = await receiver.app.inject({ method: 'GET', url: `/dlr/gateB?${query.toString()}` });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('ACK-RECEIVED');
    const message = await getMessage(receiver.app, 'get-1');
    expect(message).toMatchObject({ status: 'pending', final: false, source: 'LINK', destination: '+4744444444' });
    expect(message.reports[0]).toMatchObject({ format: 'query', gate: 'gateB' });
  });
});
