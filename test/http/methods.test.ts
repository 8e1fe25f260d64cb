/** A method a path does not take: 405 naming the methods it does, never a report stored, callers still checked first. */
import { describe, expect, it } from 'vitest';
import { deliveredReport, useTestReceiver } from '../helpers/app.js';

const receiver = useTestReceiver({ API_TOKEN: 'method-token' });
const authorised = { authorization: 'Bearer method-token' };

describe('methods a path does not take', () => {
  it.each(['PUT', 'PATCH', 'DELETE'] as const)('answers %s /dlr with 405 and Allow, and stores nothing', async (method) => {
    const id = `method-${method}`;
    const response = await receiver.app.inject({
      method,
      url: '/dlr/gate-1',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(deliveredReport({ id })),
    });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, POST, OPTIONS');
    expect(response.json()).toEqual({ error: 'Method Not Allowed', message: `${method} is not taken here: this path takes GET and POST` });
    expect((await receiver.app.inject({ method: 'GET', url: `/messages/${id}`, headers: authorised })).statusCode).toBe(404);
  });

  it('answers HEAD /dlr with 405, as a HEAD must not store a report', async () => {
    const response = await receiver.app.inject({ method: 'HEAD', url: '/dlr?id=method-head&resultCode=1001' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, POST, OPTIONS');
    expect((await receiver.app.inject({ method: 'GET', url: '/messages/method-head', headers: authorised })).statusCode).toBe(404);
  });

  it('answers OPTIONS with 204 and the methods each path takes', async () => {
    const expected = { '/dlr': 'GET, POST, OPTIONS', '/messages/abc': 'GET, HEAD, OPTIONS', '/readyz': 'GET, HEAD, OPTIONS' };
    for (const [url, allow] of Object.entries(expected)) {
      const response = await receiver.app.inject({ method: 'OPTIONS', url, headers: authorised });
      expect(response.statusCode, url).toBe(204);
      expect(response.headers.allow, url).toBe(allow);
    }
  });

  it.each(['/messages/abc', '/messages?refId=x', '/summary?refId=x', '/rejected', '/healthz', '/readyz'])('answers POST %s with 405', async (url) => {
    const response = await receiver.app.inject({ method: 'POST', url, headers: authorised });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD, OPTIONS');
  });

  it('checks the caller before the method: a stranger gets 403, a lookup without the token 401', async () => {
    const stranger = await receiver.app.inject({ method: 'PUT', url: '/dlr', remoteAddress: '203.0.113.9' });
    expect(stranger.statusCode).toBe(403);
    const noToken = await receiver.app.inject({ method: 'DELETE', url: '/messages/abc' });
    expect(noToken.statusCode).toBe(401);
  });

  it('still answers 404 for a path it does not serve', async () => {
    const response = await receiver.app.inject({ method: 'PUT', url: '/nowhere' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'Not Found', message: 'no route PUT /nowhere' });
  });
});
