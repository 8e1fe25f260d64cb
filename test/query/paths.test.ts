/** The query API's paths: ids as long as intake takes, ids no message can have, and paths the router cannot read. */
import { describe, expect, it } from 'vitest';
import type { MessageJson } from '../helpers/app.js';
import { postJson, useTestReceiver } from '../helpers/app.js';

const receiver = useTestReceiver();

describe('GET /messages/{messageId} paths', () => {
  it('finds a message whose id is as long as intake takes, by its id and by a part id', async () => {
    const messageId = `long-${'Å'.repeat(249)}`;
    const partId = `${messageId}$1`;
    expect(partId).toHaveLength(256);
    expect((await postJson(receiver.app, { id: partId, resultCode: 1001, segments: 2 })).statusCode).toBe(200);
    for (const id of [messageId, partId]) {
      const response = await receiver.app.inject({ method: 'GET', url: `/messages/${encodeURIComponent(id)}` });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json<MessageJson>()).toMatchObject({ messageId, status: 'pending', segments: { total: 2, delivered: 1 } });
    }
  });

  it('answers a path it cannot read in its error shape, without the path echoed back', async () => {
    const tooLong = await receiver.app.inject({ method: 'GET', url: `/messages/${'x'.repeat(257)}` });
    expect(tooLong.statusCode).toBe(414);
    expect(tooLong.json()).toEqual({ error: 'URI Too Long', message: 'the path names an id longer than 256 characters, the longest id taken' });
    const badEscape = await receiver.app.inject({ method: 'GET', url: '/messages/abc%E0%A4' });
    expect(badEscape.statusCode).toBe(400);
    expect(badEscape.json()).toEqual({ error: 'Bad Request', message: 'the path has a % escape that is not a UTF-8 character' });
  });

  it('reads a trailing slash as no slash, and answers /messages// (no id) with 404 pointing at the list', async () => {
    expect((await postJson(receiver.app, { id: 'slashed$0', resultCode: 1001 })).statusCode).toBe(200);
    const message = await receiver.app.inject({ method: 'GET', url: '/messages/slashed$0/' });
    expect(message.statusCode).toBe(200);
    expect(message.json<MessageJson>().messageId).toBe('slashed');
    const list = await receiver.app.inject({ method: 'GET', url: '/messages/?refId=&limit=500' });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ messages: MessageJson[] }>().messages.map((listed) => listed.messageId)).toContain('slashed');
    const response = await receiver.app.inject({ method: 'GET', url: '/messages//' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'Not Found', message: 'the path names no message: GET /messages/{messageId}, or GET /messages for the list' });
  });

  it('finds a message by a LINK id written into the path as it is, its / and + unescaped', async () => {
    // The REST document's own message id, and one that ends in its / (base64 ids may).
    for (const id of ['Dcshuhod0PMAAAFQ+/PbnR3x', 'QC5BGwiuYk0AAA/iQ08nTFO/']) {
      expect((await postJson(receiver.app, { id: `${id}$1`, resultCode: 1001, segments: 2 })).statusCode).toBe(200);
      for (const path of [`/messages/${id}`, `/messages/${id}$1`, `/messages/${encodeURIComponent(id)}`, `/messages/${id}/`]) {
        const response = await receiver.app.inject({ method: 'GET', url: path });
        expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
        expect(response.json<MessageJson>()).toMatchObject({ messageId: id, segments: { total: 2, delivered: 1 } });
      }
    }
    const unknown = await receiver.app.inject({ method: 'GET', url: '/messages/Dcshuhod0PMAAAFQ+/PbnR3y' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: 'Not Found', message: 'no report has been received for this message' });
  });

  it.each(['a%00b', '%00', 'abc$1%00'])('answers 400 naming the NUL character in the id %s, which intake never stores', async (segment) => {
    const response = await receiver.app.inject({ method: 'GET', url: `/messages/${segment}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'Bad Request', message: 'messageId contains a NUL character, which no stored message has' });
  });
});
