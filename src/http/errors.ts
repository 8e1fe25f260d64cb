/** The one shape of every error answer: `{ "error": <status text>, "message": <what is wrong> }`. */
import { STATUS_CODES } from 'node:http';

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
}

export function errorBody(status: number, message: string): ErrorBody {
  return { error: STATUS_CODES[status] ?? 'Error', message };
}

/** What Fastify tells of a request its schema refused: where and which rule (`instancePath` `/limit`). */
export interface SchemaRefusal {
  readonly message: string;
  readonly validationContext?: string | undefined;
  readonly validation?: ReadonlyArray<{ readonly instancePath: string }> | undefined;
}

/**
 * The message for a request its schema refused. A query parameter given twice arrives as a list,
 * which the schema refuses as "querystring/limit must be string": that is said plainly.
 */
export function schemaRefusalMessage(refusal: SchemaRefusal, query: unknown): string {
  const name = refusal.validation?.[0]?.instancePath.slice(1);
  if (refusal.validationContext === 'querystring' && name !== undefined && typeof query === 'object' && query !== null) {
    const value: unknown = (query as Readonly<Record<string, unknown>>)[name];
    if (Array.isArray(value)) return `${name} is given ${value.length} times; give it once`;
  }
  return refusal.message;
}
