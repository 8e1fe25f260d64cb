/**
 * `GET /openapi.json`, as a client generator reads it: the routes the contract names, and answers
 * the receiver really gives that fit what it documents.
 */
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { deliveredReport, numberErrorReport, postJson, useTestReceiver } from '../helpers/app.js';

const TOKEN = 'openapi-test-token';
const receiver = useTestReceiver({ API_TOKEN: TOKEN });
const authorised = { authorization: `Bearer ${TOKEN}` };

type JsonObject = Record<string, unknown>;

interface Operation {
  readonly tags?: string[];
  readonly security?: unknown[];
  readonly responses: Record<string, { content?: Record<string, { schema: JsonObject }> }>;
}

interface Described {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, Operation>>;
  readonly security: unknown[];
}

async function described(): Promise<Described> {
  const response = await receiver.app.inject({ method: 'GET', url: '/openapi.json', headers: authorised });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Described>();
}

/** Asks `url` and checks the answer against the schema the document gives for its path, method and status. */
async function expectDescribedAnswer(document: Described, path: string, url: string): Promise<unknown> {
  const response = await receiver.app.inject({ method: 'GET', url, headers: authorised });
  const schema = document.paths[path]?.get?.responses[String(response.statusCode)]?.content?.['application/json']?.schema;
  expect(schema, `${url} answered ${response.statusCode}, which ${path} does not describe`).toBeDefined();
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema ?? {});
  const body: unknown = response.json();
  expect(validate(body), `${url}: ${JSON.stringify(validate.errors)}`).toBe(true);
  return body;
}

describe('GET /openapi.json', () => {
  it('is authorised as the query API is, whose refusal it describes', async () => {
    expect((await receiver.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(401);
    const wrong = await receiver.app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: 'Bearer wrong' } });
    expect(wrong.statusCode).toBe(401);
    const refused = await receiver.app.inject({ method: 'GET', url: '/messages/any' });
    expect(refused.statusCode).toBe(401);
    const schema = (await described()).paths['/messages/{messageId}']?.get?.responses['401']?.content?.['application/json']?.schema;
    expect(new Ajv().compile(schema ?? { not: {} })(refused.json())).toBe(true);
  });

  it('describes in OpenAPI 3.1 each route the receiver serves with the methods it takes there, and none it refuses', async () => {
    const document = await described();
    expect(document.openapi).toBe('3.1.0');
    const routes = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(
      [
        'GET /dlr', 'POST /dlr', 'GET /dlr/{gate}', 'POST /dlr/{gate}',
        'GET /messages/{messageId}', 'GET /messages', 'GET /summary', 'GET /rejected',
        'GET /healthz', 'GET /readyz', 'GET /metrics',
      ].sort(),
    );
  });

  it('asks for the token on the query API and on nothing LINK or a load balancer calls', async () => {
    const document = await described();
    expect(document.security).toEqual([{ bearer: [] }]);
    const open = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).filter(([, operation]) => operation.security?.length === 0).map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(open.sort()).toEqual(['GET /dlr', 'POST /dlr', 'GET /dlr/{gate}', 'POST /dlr/{gate}', 'GET /healthz', 'GET /readyz'].sort());
  });

  it('describes every field of the answers the query API gives, with the values they take', async () => {
    const document = await described();
    const parts = [0, 1].map((part) => deliveredReport({ id: `described$${String(part)}`, refId: 'described-order', segments: 2, customParameters: { source: 'LINK', destination: '+4799999999' } }));
    expect((await postJson(receiver.app, parts)).statusCode).toBe(200);
    expect((await postJson(receiver.app, numberErrorReport({ id: 'described', refId: 'described-order' }), '/dlr/gate-1')).statusCode).toBe(200);
    const form = await receiver.app.inject({ method: 'GET', url: '/dlr?id=described-form&resultCode=1005&refId=described-order' });
    expect(form.statusCode).toBe(200);
    expect((await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: '{"id":"no-code"}' })).statusCode).toBe(400);

    const message = (await expectDescribedAnswer(document, '/messages/{messageId}', '/messages/described')) as { reports: unknown[]; parts: unknown[] };
    expect(message.reports).toHaveLength(3);
    expect(message.parts).toHaveLength(2);
    await expectDescribedAnswer(document, '/messages/{messageId}', '/messages/never-received');
    const list = (await expectDescribedAnswer(document, '/messages', '/messages?refId=described-order&limit=1')) as { messages: unknown[]; nextCursor: string | null };
    expect(list.nextCursor).not.toBeNull();
    await expectDescribedAnswer(document, '/messages', '/messages?status=lost');
    const counted = (await expectDescribedAnswer(document, '/summary', '/summary?refId=described-order')) as { messages: number };
    expect(counted.messages).toBe(2);
    await expectDescribedAnswer(document, '/summary', '/summary');
    const rejected = (await expectDescribedAnswer(document, '/rejected', '/rejected')) as { rejected: unknown[] };
    expect(rejected.rejected.length).toBeGreaterThan(0);
    await expectDescribedAnswer(document, '/readyz', '/readyz');
    await expectDescribedAnswer(document, '/healthz', '/healthz');
  });
});
