/**
 * A path the receiver serves, asked with a method it does not take there (`PUT /dlr`), is answered
 * `405` with `Allow`: a `404` would read as a wrong URL. `OPTIONS` is answered `204` with the same
 * `Allow`, as HTTP asks.
 */
import type { HTTPMethods, RouteHandlerMethod } from 'fastify';
import { errorBody } from './errors.js';

const METHODS: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

export interface OtherMethodsRoute {
  readonly method: HTTPMethods[];
  readonly url: string;
  readonly exposeHeadRoute: false;
  /** Not in `GET /openapi.json`: the methods a path takes are. */
  readonly schema: { readonly hide: true };
  readonly handler: RouteHandlerMethod;
}

/** The route that answers every method of `url` other than `allowed`. */
export function otherMethodsRoute(url: string, allowed: readonly HTTPMethods[]): OtherMethodsRoute {
  const allow = [...allowed, 'OPTIONS'].join(', ');
  const takes = allowed.join(' and ');
  return {
    method: METHODS.filter((method) => !allowed.includes(method)),
    url,
    exposeHeadRoute: false,
    schema: { hide: true },
    handler: (request, reply) => {
      void reply.header('allow', allow);
      if (request.method === 'OPTIONS') return reply.code(204).send();
      return reply.code(405).send(errorBody(405, `${request.method} is not taken here: this path takes ${takes}`));
    },
  };
}
