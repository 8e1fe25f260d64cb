/**
 * `GET /openapi.json`: the receiver's routes described in OpenAPI 3.1, made by @fastify/swagger from
 * the schemas the routes answer with, so that the description cannot drift from the answers. Teams
 * generate clients of the query API from it, or read it in any OpenAPI viewer.
 */
import type { SwaggerOptions } from '@fastify/swagger';

/** Changes when an answer of the query API changes in a way a client would notice. */
const DESCRIBED_VERSION = '1';

const INTAKE =
  'Takes a delivery report from LINK: JSON (one report or an array), XML, a form body, or the same key/value pairs in a GET query string. ' +
  'Answered 200 with DLR_ACK_BODY (text/plain) only once the report is durable; 400 (kept for GET /rejected), 403, 413, 415 and 503 otherwise.';

export const OPENAPI_OPTIONS: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'LINK delivery-report receiver',
      version: DESCRIBED_VERSION,
      description:
        'Receives LINK Mobility delivery reports (REST callbacks and SMPP receipts), stores each message part in PostgreSQL, and answers what happened to a message. ' +
        'The query API needs Authorization: Bearer <API_TOKEN> when API_TOKEN is set, and answers callers on the receiver\'s own machine only when it is not.',
    },
    tags: [
      { name: 'query', description: 'What happened to a message, and the requests intake refused' },
      { name: 'intake', description: 'Where LINK delivers reports; answers LINK\'s hosts only (DLR_ALLOWED_IPS)' },
      { name: 'health', description: 'For load balancers and monitoring' },
    ],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN' } } },
    security: [{ bearer: [] }],
  },
  // Routes are documented where they are declared (their summary, tags and schemas); this only
  // says the intake routes are LINK's, which the token does not concern.
  transform: ({ schema, url }) => {
    if (!url.startsWith('/dlr')) return { schema, url };
    return { schema: { ...schema, tags: ['intake'], summary: 'Take a delivery report', description: INTAKE, security: [] }, url };
  },
};
