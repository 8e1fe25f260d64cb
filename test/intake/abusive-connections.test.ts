/**
 * Abuse at the connection level, over real sockets: a body sent a byte at a time, a flood of
 * headers, a thousand idle connections. The receiver cuts off what it must and keeps serving.
 */
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { deliveredReport, useTestReceiver } from '../helpers/app.js';

const receiver = useTestReceiver({ REQUEST_TIMEOUT_MS: '1000' });
let port: number;

beforeAll(async () => {
  await receiver.app.listen({ host: '127.0.0.1', port: 0 });
  const address = receiver.app.server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
});

async function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => { resolve(socket); });
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection, and how long that took. */
function untilClosed(socket: Socket): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return new Promise((resolve) => socket.once('close', () => { resolve({ text, ms: Date.now() - started }); }));
}

async function postReport(id: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/dlr`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(deliveredReport({ id })),
  });
  return response.status;
}

describe('abusive connections', () => {
  it('cuts off a body sent a byte at a time with 408 once the request timeout passes', async () => {
    const socket = await open();
    const closed = untilClosed(socket);
    const body = JSON.stringify(deliveredReport({ id: 'slow-body' }));
    socket.write(`POST /dlr HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    let sent = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && sent < body.length) socket.write(body[sent++] ?? '');
    }, 200);
    const { text, ms } = await closed;
    clearInterval(drip);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(text).toContain('\r\n\r\n{"error":"Request Timeout","message":"the request did not arrive in full within the request timeout"}');
    expect(ms).toBeLessThan(5_000);
    expect(await postReport('after-slow-body')).toBe(200);
  });

  it('answers a flood of headers with 431', async () => {
    const socket = await open();
    const closed = untilClosed(socket);
    const headers = Array.from({ length: 2_000 }, (_, index) => `X-Flood-${index}: ${'x'.repeat(20)}\r\n`).join('');
    socket.write(`POST /dlr HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
    const { text } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 431/);
    expect(text).toContain('{"error":"Request Header Fields Too Large","message":"the request\'s headers are larger than the receiver takes"}');
    expect(await postReport('after-header-flood')).toBe(200);
  });

  it('answers a request Node cannot parse with 400 in the receiver\'s error shape, naming the rule it broke', async () => {
    const cases: Array<[string, string]> = [
      ['GET /dlr?id=raw-\u00f8&resultCode=1001 HTTP/1.1\r\nHost: x\r\n\r\n', 'Invalid char in url query'],
      ['GET /dlr HTTP/1.1\r\nHost x\r\n\r\n', 'Invalid header token'],
      ['POST /dlr HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', "Transfer-Encoding can't be present with Content-Length"],
    ];
    for (const [request, rule] of cases) {
      const socket = await open();
      const closed = untilClosed(socket);
      socket.write(Buffer.from(request, 'utf8'));
      const { text } = await closed;
      expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(text.slice(text.indexOf('\r\n\r\n') + 4)).toBe(JSON.stringify({ error: 'Bad Request', message: `the request is not HTTP the receiver can read: ${rule}` }));
    }
    expect(await postReport('after-unparseable')).toBe(200);
  });

  it('answers a request target that is neither a path nor an absolute URL with 400, storing and showing nothing', async () => {
    const exchange = async (target: string): Promise<{ status: string; body: string }> => {
      const socket = await open();
      const closed = untilClosed(socket);
      socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const { text } = await closed;
      return { status: text.slice(0, text.indexOf('\r\n')), body: text.slice(text.indexOf('\r\n\r\n') + 4) };
    };
    expect(await postReport('target-known')).toBe(200);
    const refusal = JSON.stringify({ error: 'Bad Request', message: 'the request target is neither a path starting with / nor an absolute http(s) URL' });
    for (const target of ['*dlr?id=target-starred&resultCode=1001', '*messages/target-known', '*healthz']) {
      expect(await exchange(target), target).toEqual({ status: 'HTTP/1.1 400 Bad Request', body: refusal });
    }
    expect((await exchange('/messages/target-starred')).status).toBe('HTTP/1.1 404 Not Found');
    // The absolute form, which HTTP/1.1 servers must take, still reaches the routes.
    expect((await exchange('http://x/dlr?id=target-absolute&resultCode=1001')).status).toBe('HTTP/1.1 200 OK');
    expect((await exchange('/messages/target-absolute')).status).toBe('HTTP/1.1 200 OK');
  });

  it('answers 413 to a body declared larger than PostgreSQL\'s integer, and keeps the refusal with its size unknown', async () => {
    const socket = await open();
    const closed = untilClosed(socket);
    socket.write(`POST /dlr/huge HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000000\r\nConnection: close\r\n\r\n{"id":`);
    expect((await closed).text).toMatch(/^HTTP\/1\.1 413/);
    const rejected = await fetch(`http://127.0.0.1:${port}/rejected?limit=1`);
    expect((await rejected.json() as { rejected: unknown[] }).rejected[0]).toMatchObject({ path: '/dlr/huge', body: '', bodyBytes: null });
  });

  it('keeps taking reports with a thousand idle connections open', async () => {
    const idle = await Promise.all(Array.from({ length: 1_000 }, () => open()));
    try {
      expect(await postReport('beside-idle-connections')).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });
});

