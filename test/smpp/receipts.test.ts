/**
 * Receipts over SMPP, end to end: a real SMPP server plays the gateway, the receiver binds to it,
 * takes `deliver_sm` receipts and answers each only once the receipt is stored; the query API then
 * shows them beside the REST reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmppPdu } from '../../src/smpp/smpp-library.js';
import { COMMAND_STATUS } from '../../src/smpp/smpp-library.js';
import type { MessageJson } from '../helpers/app.js';
import { getMessage, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';
import type { FakeGateway } from '../helpers/smpp-gateway.js';
import { TLV_TAG, rawTlv, receiptPdu, receiptText, startFakeGateway } from '../helpers/smpp-gateway.js';
import type { SmppTestReceiver } from '../helpers/smpp-receiver.js';
import { startSmppReceiver } from '../helpers/smpp-receiver.js';

let testDb: TestDatabase;
let gateway: FakeGateway;
let receiver: SmppTestReceiver;

beforeAll(async () => {
  testDb = await createTestDatabase();
  gateway = await startFakeGateway({ systemId: 'dlr-user', password: 's3cret' });
  receiver = await startSmppReceiver(testDb.database, { SMPP_URL: gateway.url('dlr-user', 's3cret') });
  await receiver.waitForState('bound');
});
afterAll(async () => {
  await receiver.app.close();
  await gateway.close();
  await testDb.drop();
});

/** Sends a receipt and, the moment its answer arrives, checks whether the report is stored yet. */
async function deliver(params: Record<string, unknown>, reportId: string): Promise<{ answer: SmppPdu; storedWhenAnswered: boolean }> {
  const answer = await gateway.deliver(params);
  const row = await testDb.database.db.selectFrom('reports').select('seq').where('report_id', '=', reportId).executeTakeFirst();
  return { answer, storedWhenAnswered: row !== undefined };
}

type SmppPart = MessageJson['parts'][number] & { stat?: string | null; err?: string | null; errDescription?: string | null };

function onlyPart(message: MessageJson): SmppPart {
  const [part] = message.parts;
  if (part === undefined) throw new Error(`message ${message.messageId} has no part`);
  return part;
}

describe('binding', () => {
  it('binds as a receiver with the system_id and password of SMPP_URL, and /readyz says bound', async () => {
    expect(gateway.binds[0]).toMatchObject({ command: 'bind_receiver', systemId: 'dlr-user', accepted: true });
    expect(await receiver.smppState()).toBe('bound');
  });
});

describe('a delivery receipt in the default format', () => {
  it('is stored, answered ESME_ROK only once committed, and read back with stat, err and its description', async () => {
    const text = receiptText({ id: 'smpp-default-1', stat: 'DELIVRD', submitDate: '251119093735', doneDate: '251119093801' });
    const { answer, storedWhenAnswered } = await deliver(receiptPdu(text), 'smpp-default-1');
    expect(answer.command).toBe('deliver_sm_resp');
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    expect(storedWhenAnswered).toBe(true);

    const message = await getMessage(receiver.app, 'smpp-default-1');
    expect(message).toMatchObject({ status: 'delivered', final: true, resultCode: null, source: 'LINK', destination: '4799999999' });
    expect(onlyPart(message)).toMatchObject({
      part: 0,
      status: 'delivered',
      resultCode: null,
      stat: 'DELIVRD',
      err: '000',
      errDescription: 'OK',
      delivery: 'DELIVERED',
      sentTimestamp: '2025-11-19T09:37:35Z',
      timestamp: '2025-11-19T09:38:01Z',
    });
    expect(message.reports[0]).toMatchObject({ id: 'smpp-default-1', format: 'smpp', stat: 'DELIVRD', err: '000', errDescription: 'OK' });
    expect(message.reports[0]?.payload).toMatchObject({ command: 'deliver_sm', short_message: text, source_addr: '4799999999', fields: { stat: 'DELIVRD' } });
  });

  it('reads dates without seconds as whole minutes, UTC', async () => {
    const text = receiptText({ id: 'smpp-minutes-1', stat: 'UNDELIV', err: '108', submitDate: '2511190937', doneDate: '2511191002' });
    expect((await deliver(receiptPdu(text), 'smpp-minutes-1')).answer.command_status).toBe(COMMAND_STATUS.ok);
    const part = onlyPart(await getMessage(receiver.app, 'smpp-minutes-1'));
    expect(part).toMatchObject({ status: 'failed', final: true, err: '108', errDescription: 'Delivery fail' });
    expect(part.sentTimestamp).toBe('2025-11-19T09:37:00Z');
    expect(part.timestamp).toBe('2025-11-19T10:02:00Z');
  });

  it('is stored when the gateway ends its text with a NUL, as a C string, and no text: field takes it in', async () => {
    const text = 'id:smpp-c-string sub:001 dlvrd:000 submit date:2511190937 done date:2511191002 stat:UNDELIV err:108\0';
    const { answer, storedWhenAnswered } = await deliver(receiptPdu(text), 'smpp-c-string');
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    expect(storedWhenAnswered).toBe(true);
    expect(onlyPart(await getMessage(receiver.app, 'smpp-c-string'))).toMatchObject({ status: 'failed', stat: 'UNDELIV', err: '108', errDescription: 'Delivery fail' });
  });

  it('keeps a "$n" part id as it came, so the receipt speaks for that part of its message', async () => {
    await deliver(receiptPdu(receiptText({ id: 'smpp-long$1', stat: 'DELIVRD' })), 'smpp-long$1');
    const message = await getMessage(receiver.app, 'smpp-long');
    expect(message.segments).toMatchObject({ total: 2, delivered: 1, pending: 1 });
    expect(message.status).toBe('pending');
    expect(message.parts.map((part) => part.part)).toEqual([1]);
  });

  it('is stored once when the gateway delivers it again', async () => {
    const pdu = receiptPdu(receiptText({ id: 'smpp-again-1', stat: 'EXPIRED', err: '220' }));
    expect((await gateway.deliver(pdu)).command_status).toBe(COMMAND_STATUS.ok);
    expect((await gateway.deliver(pdu)).command_status).toBe(COMMAND_STATUS.ok);
    expect((await getMessage(receiver.app, 'smpp-again-1')).reports).toHaveLength(1);
  });
});

describe('each stat', () => {
  const cases = [
    ['DELIVRD', 'delivered', true],
    ['EXPIRED', 'failed', true],
    ['DELETED', 'failed', true],
    ['UNDELIV', 'failed', true],
    ['REJECTD', 'failed', true],
    ['UNKNOWN', 'unknown', true],
    ['ACCEPTD', 'delivered', true],
    ['ENROUTE', 'pending', false],
    ['BUFFRED', 'pending', false],
    ['NEWSTATE', 'unknown', false],
  ] as const;
  it.each(cases)('stat %s gives a part %s, final %s', async (stat, status, final) => {
    const id = `smpp-stat-${stat}`;
    await deliver(receiptPdu(receiptText({ id, stat })), id);
    const message = await getMessage(receiver.app, id);
    expect(onlyPart(message)).toMatchObject({ status, final, stat });
    expect(message.final).toBe(final);
  });
});

describe('TLVs', () => {
  it('takes the id from receipted_message_id and the state from message_state when they are present', async () => {
    const text = receiptText({ id: '12345', stat: 'ENROUTE' });
    // message_state 2 is DELIVERED.
    await deliver(receiptPdu(text, { receipted_message_id: 'smpp-tlv-1', message_state: 2 }), 'smpp-tlv-1');
    const message = await getMessage(receiver.app, 'smpp-tlv-1');
    expect(onlyPart(message)).toMatchObject({ status: 'delivered', final: true, stat: 'DELIVRD' });
    expect(message.reports[0]?.payload).toMatchObject({ receipted_message_id: 'smpp-tlv-1', message_state: 2 });
  });

  it('reads the receipt from message_payload when short_message is empty', async () => {
    const text = receiptText({ id: 'smpp-payload-1', stat: 'REJECTD', err: '137' });
    await deliver(receiptPdu('', { message_payload: Buffer.from(text, 'latin1') }), 'smpp-payload-1');
    expect(onlyPart(await getMessage(receiver.app, 'smpp-payload-1'))).toMatchObject({
      status: 'failed',
      errDescription: 'SMS was rejected (SPAM)',
    });
  });
});

describe('a delivery receipt in a data_sm', () => {
  /** A `data_sm` receipt (esm_class 0x04): SMPP 3.4 lets a gateway send receipts so. */
  async function sendDataSm(params: Record<string, unknown>, reportId: string): Promise<{ answer: SmppPdu; storedWhenAnswered: boolean }> {
    const answer = await gateway.sendDataSm({ source_addr: '4799999999', destination_addr: 'LINK', esm_class: 0x04, data_coding: 0, ...params });
    const row = await testDb.database.db.selectFrom('reports').select('seq').where('report_id', '=', reportId).executeTakeFirst();
    return { answer, storedWhenAnswered: row !== undefined };
  }

  it('is stored from its TLVs alone, and answered with data_sm_resp ESME_ROK only once committed', async () => {
    // message_state 5 is UNDELIVERABLE.
    const { answer, storedWhenAnswered } = await sendDataSm({ receipted_message_id: 'smpp-data-1', message_state: 5 }, 'smpp-data-1');
    expect(answer.command).toBe('data_sm_resp');
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    expect(storedWhenAnswered).toBe(true);
    const message = await getMessage(receiver.app, 'smpp-data-1');
    expect(message).toMatchObject({ status: 'failed', final: true });
    expect(onlyPart(message)).toMatchObject({ status: 'failed', stat: 'UNDELIV' });
    expect(message.reports[0]).toMatchObject({ format: 'smpp', payload: { command: 'data_sm', receipted_message_id: 'smpp-data-1', message_state: 5 } });
  });

  it('reads the receipt text in message_payload, as a deliver_sm\'s', async () => {
    const text = receiptText({ id: 'smpp-data-2', stat: 'DELIVRD', err: '000' });
    const { answer } = await sendDataSm({ message_payload: Buffer.from(text, 'latin1') }, 'smpp-data-2');
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    expect(onlyPart(await getMessage(receiver.app, 'smpp-data-2'))).toMatchObject({ status: 'delivered', stat: 'DELIVRD', errDescription: 'OK' });
  });

  it('answers a data_sm that is not a receipt ESME_ROK and keeps it among the rejected, named data_sm', async () => {
    const answer = await gateway.sendDataSm({ source_addr: '4799999999', destination_addr: '2000', esm_class: 0, message_payload: Buffer.from('HELLO') });
    expect(answer.command).toBe('data_sm_resp');
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    const [latest] = (await receiver.app.inject({ method: 'GET', url: '/rejected?limit=1' })).json<{ rejected: Array<{ method: string; body: string; reason: string }> }>().rejected;
    expect(latest).toMatchObject({ method: 'data_sm', body: 'HELLO' });
    expect(latest?.reason).toContain('not a delivery receipt');
  });
});

describe('TLVs a gateway encodes loosely', () => {
  const DELIVERED = Buffer.from([2]);

  async function deliverRaw(text: string, tlvs: Buffer[]): Promise<SmppPdu> {
    return gateway.deliverWithRawTlvs(receiptPdu(text), Buffer.concat(tlvs));
  }

  it('reads a receipted_message_id sent without its closing NUL within its length, not into the next TLV', async () => {
    const text = receiptText({ id: '998877', stat: 'ENROUTE' });
    const answer = await deliverRaw(text, [rawTlv(TLV_TAG.receiptedMessageId, Buffer.from('smpp-tlv-no-nul')), rawTlv(TLV_TAG.messageState, DELIVERED)]);
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    const message = await getMessage(receiver.app, 'smpp-tlv-no-nul');
    expect(onlyPart(message)).toMatchObject({ status: 'delivered', stat: 'DELIVRD' });
  });

  it('reads a message_state of length 0 as absent, and takes the state from the text', async () => {
    const text = receiptText({ id: 'smpp-tlv-empty-state', stat: 'UNDELIV', err: '034' });
    const tlvs = [rawTlv(TLV_TAG.messageState, Buffer.alloc(0)), rawTlv(TLV_TAG.receiptedMessageId, Buffer.from('smpp-tlv-empty-state\0'))];
    expect((await deliverRaw(text, tlvs)).command_status).toBe(COMMAND_STATUS.ok);
    expect(onlyPart(await getMessage(receiver.app, 'smpp-tlv-empty-state'))).toMatchObject({ status: 'failed', stat: 'UNDELIV' });
  });

  it('takes a receipt whose last TLV is too short for its type, or cannot be decoded, and keeps the link', async () => {
    const bindsBefore = gateway.binds.length;
    const shortLast = await deliverRaw(receiptText({ id: 'smpp-tlv-short-last', stat: 'DELIVRD' }), [rawTlv(TLV_TAG.messageState, Buffer.alloc(0))]);
    // A callback_num holds a digit mode, a TON and an NPI before the number: one byte is none of it.
    const undecodable = await deliverRaw(receiptText({ id: 'smpp-tlv-undecodable', stat: 'EXPIRED' }), [rawTlv(TLV_TAG.callbackNum, Buffer.from([1]))]);
    expect([shortLast.command_status, undecodable.command_status]).toEqual([COMMAND_STATUS.ok, COMMAND_STATUS.ok]);
    expect(onlyPart(await getMessage(receiver.app, 'smpp-tlv-short-last'))).toMatchObject({ status: 'delivered' });
    expect(onlyPart(await getMessage(receiver.app, 'smpp-tlv-undecodable'))).toMatchObject({ status: 'failed', stat: 'EXPIRED' });
    expect(gateway.binds.length).toBe(bindsBefore);
    expect(await receiver.smppState()).toBe('bound');
  });
});

describe('a deliver_sm that is no receipt, or a receipt that cannot be read whole', () => {
  interface Rejected { method: string; reason: string; body: string; bodyBytes: number | null }
  async function latestRejected(): Promise<Rejected> {
    const response = await receiver.app.inject({ method: 'GET', url: '/rejected?limit=1' });
    const [latest] = response.json<{ rejected: Rejected[] }>().rejected;
    if (latest === undefined) throw new Error('nothing was rejected');
    return latest;
  }

  it('answers an incoming message ESME_ROK, so it does not hold the window, and keeps it among the rejected', async () => {
    const answer = await gateway.deliver({ source_addr: '4799999999', destination_addr: '2000', esm_class: 0, short_message: Buffer.from('STOP') });
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    expect(await latestRejected()).toMatchObject({ method: 'deliver_sm', body: 'STOP', bodyBytes: 4 });
    expect((await latestRejected()).reason).toContain('not a delivery receipt');
  });

  it('stores a receipt with an impossible date without that date, its state read and the date kept as it came', async () => {
    // A date a carrier filled with digits of its own, here a phone number's: not in the log either.
    const text = receiptText({ id: 'smpp-bad-date', stat: 'DELIVRD', submitDate: '2511190937', doneDate: '4799887766' });
    const { answer, storedWhenAnswered } = await deliver(receiptPdu(text, { source_addr: '4711223344' }), 'smpp-bad-date');
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    expect(storedWhenAnswered).toBe(true);

    const message = await getMessage(receiver.app, 'smpp-bad-date');
    expect(message).toMatchObject({ status: 'delivered', final: true });
    expect(onlyPart(message)).toMatchObject({ status: 'delivered', stat: 'DELIVRD', sentTimestamp: '2025-11-19T09:37:00Z', timestamp: null });
    expect(message.reports[0]?.payload).toMatchObject({ fields: { 'done date': '4799887766' } });
    expect(receiver.logs()).toContain('a receipt date could not be read: the receipt is stored without it');
    expect(receiver.logs()).not.toContain('4799887766');
    expect(receiver.logs()).not.toContain('4711223344');
  });

  it('keeps a phone number in a refused receipt out of the log', async () => {
    const text = receiptText({ id: '$4799887766', stat: 'DELIVRD' });
    const { answer } = await deliver(receiptPdu(text, { source_addr: '4711223344' }), '$4799887766');
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    expect((await latestRejected()).reason).toContain('id "$4799887766" has a part number but no message id');
    expect(receiver.logs()).toContain('receipt refused');
    expect(receiver.logs()).not.toContain('4799887766');
    expect(receiver.logs()).not.toContain('4711223344');
  });

  it('keeps a receipt without any id among the rejected', async () => {
    await gateway.deliver(receiptPdu('sub:001 dlvrd:001 stat:DELIVRD err:000'));
    expect((await latestRejected()).reason).toContain('the receipt has no id');
  });

  it('goes on taking receipts after those', async () => {
    const { answer } = await deliver(receiptPdu(receiptText({ id: 'smpp-after-bad', stat: 'DELIVRD' })), 'smpp-after-bad');
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
  });
});

describe('beside the REST reports', () => {
  it('lists SMPP and REST messages together, and a REST part carries no stat', async () => {
    expect((await postJson(receiver.app, { id: 'rest-beside-smpp', resultCode: 1001 })).statusCode).toBe(200);
    const rest = await getMessage(receiver.app, 'rest-beside-smpp');
    expect(onlyPart(rest)).not.toHaveProperty('stat');
    const listing = await receiver.app.inject({ method: 'GET', url: '/messages?limit=500' });
    const ids = listing.json<{ messages: MessageJson[] }>().messages.map((message) => message.messageId);
    expect(ids).toEqual(expect.arrayContaining(['rest-beside-smpp', 'smpp-default-1']));
  });

  it('lists a receipt and a REST report sent to one number together, the receipt\'s address without its +', async () => {
    const text = receiptText({ id: 'smpp-to-number', stat: 'UNDELIV' });
    expect((await deliver(receiptPdu(text, { source_addr: '4791234500' }), 'smpp-to-number')).answer.command_status).toBe(COMMAND_STATUS.ok);
    const rest = { id: 'rest-to-number', resultCode: 1001, customParameters: { destination: '+4791234500' } };
    expect((await postJson(receiver.app, rest)).statusCode).toBe(200);
    for (const destination of ['%2B4791234500', '4791234500']) {
      const listing = await receiver.app.inject({ method: 'GET', url: `/messages?destination=${destination}` });
      const listed = listing.json<{ messages: MessageJson[] }>().messages.map((message) => [message.messageId, message.destination]);
      expect(listed, destination).toEqual([['rest-to-number', '+4791234500'], ['smpp-to-number', '4791234500']]);
    }
  });
});

describe('a dropped connection', () => {
  it('is noticed, logged once, and bound again after the wait', async () => {
    const bindsBefore = gateway.binds.length;
    const droppedAt = Date.now();
    gateway.dropConnections();
    await receiver.waitForState('connecting');
    await receiver.waitForState('bound');
    const rebind = gateway.binds.at(-1);
    expect(gateway.binds.length).toBe(bindsBefore + 1);
    expect((rebind?.at ?? 0) - droppedAt).toBeGreaterThanOrEqual(150);
    expect(receiver.logs()).toContain('SMPP connection lost');
    const { answer } = await deliver(receiptPdu(receiptText({ id: 'smpp-after-drop', stat: 'DELIVRD' })), 'smpp-after-drop');
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
  });
});
