/** The SMPP receipt reader, without a connection: formats seen in the wild, TLVs, and what it refuses. */
import { describe, expect, it } from 'vitest';
import type { DeliverSm, ReceiptReading } from '../../src/intake/read-receipt.js';
import { readDeliverSm, receiptDate, receiptFields } from '../../src/intake/read-receipt.js';
import type { DeliveryReceipt } from '../../src/meaning/delivery-receipt.js';

function pdu(text: string, overrides: Partial<DeliverSm> = {}): DeliverSm {
  return {
    esmClass: 0x04,
    dataCoding: 0,
    shortMessage: Buffer.from(text, 'latin1'),
    messagePayload: null,
    receiptedMessageId: null,
    messageState: null,
    sourceAddr: '4799999999',
    destinationAddr: 'LINK',
    ...overrides,
  };
}

function receiptOf(reading: ReceiptReading): DeliveryReceipt {
  if (reading.kind !== 'receipt') throw new Error(`not read as a receipt: ${reading.kind}`);
  return reading.receipt;
}

const DEFAULT_FORMAT = 'id:0123456789 sub:001 dlvrd:001 submit date:2511190937 done date:2511190938 stat:DELIVRD err:000 text:Hello';

describe('the receipt text', () => {
  it('reads the default format, with seconds', () => {
    const receipt = receiptOf(readDeliverSm(pdu('id:abc sub:001 dlvrd:001 submit date:251119093735 done date:251119093801 stat:DELIVRD err:000 text:')));
    expect(receipt).toEqual({
      id: 'abc',
      submitted: '001',
      delivered: '001',
      submitDate: new Date('2025-11-19T09:37:35Z'),
      doneDate: new Date('2025-11-19T09:38:01Z'),
      stat: 'DELIVRD',
      err: '000',
      source: 'LINK',
      destination: '4799999999',
    });
  });

  it('reads the alternative format without seconds', () => {
    const receipt = receiptOf(readDeliverSm(pdu(DEFAULT_FORMAT)));
    expect(receipt.submitDate).toEqual(new Date('2025-11-19T09:37:00Z'));
    expect(receipt.doneDate).toEqual(new Date('2025-11-19T09:38:00Z'));
  });

  it('matches field names in any case, with Text: and submit_date variants', () => {
    const receipt = receiptOf(readDeliverSm(pdu('ID:x1 SUB:001 DLVRD:000 Submit_Date:2511190937 Done_date:2511190938 Stat:EXPIRED Err:220 Text:Hi there')));
    expect(receipt).toMatchObject({ id: 'x1', stat: 'EXPIRED', err: '220', doneDate: new Date('2025-11-19T09:38:00Z') });
  });

  it('keeps err of three or more digits as it came', () => {
    expect(receiptOf(readDeliverSm(pdu('id:e1 stat:UNDELIV err:0108'))).err).toBe('0108');
    expect(receiptOf(readDeliverSm(pdu('id:e2 stat:UNDELIV err:12345'))).err).toBe('12345');
  });

  it('does not read fields out of the message text that closes the receipt', () => {
    const receipt = receiptOf(readDeliverSm(pdu('id:t1 stat:DELIVRD err:000 text:id:fake stat:REJECTD err:999')));
    expect(receipt).toMatchObject({ id: 't1', stat: 'DELIVRD', err: '000' });
  });

  it('reads a receipt with fields missing: no dates, no err, no stat', () => {
    const receipt = receiptOf(readDeliverSm(pdu('id:m1')));
    expect(receipt).toMatchObject({ id: 'm1', stat: null, err: null, submitDate: null, doneDate: null, submitted: null });
  });

  it('keeps every character of the id, $ and _ included (the bytes are read as IA5, not GSM 03.38)', () => {
    expect(receiptOf(readDeliverSm(pdu('id:ab_c$1 stat:DELIVRD'))).id).toBe('ab_c$1');
  });

  it('reads a receipt ended by a NUL, or with NULs between its fields, as gateways that write C strings send it', () => {
    const ended = readDeliverSm(pdu('id:n1 sub:001 dlvrd:001 submit date:2511190937 done date:2511190938 stat:DELIVRD err:000\0'));
    expect(receiptOf(ended)).toMatchObject({ id: 'n1', stat: 'DELIVRD', err: '000', doneDate: new Date('2025-11-19T09:38:00Z') });
    expect(readDeliverSm(pdu('id:n2\0stat:UNDELIV\0err:108\0\0'))).toMatchObject({
      kind: 'receipt',
      receipt: { id: 'n2', stat: 'UNDELIV', err: '108' },
      payload: { fields: { id: 'n2', stat: 'UNDELIV', err: '108' } },
    });
    // Within a field's text a NUL is kept as U+FFFD, as PostgreSQL keeps none, and the receipt stored.
    expect(readDeliverSm(pdu('id:n3 stat:DELIVRD err:000 text:Hi\0there\0'))).toMatchObject({ kind: 'receipt', payload: { fields: { text: 'Hi\uFFFDthere' } } });
  });

  it('reads UCS-2 text and skips a user data header', () => {
    const ucs2 = Buffer.from('id:u1 stat:DELIVRD', 'utf16le').swap16();
    expect(receiptOf(readDeliverSm(pdu('', { dataCoding: 0x08, shortMessage: ucs2 }))).id).toBe('u1');
    const withHeader = Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01]), Buffer.from('id:h1 stat:DELIVRD')]);
    expect(receiptOf(readDeliverSm(pdu('', { esmClass: 0x44, shortMessage: withHeader }))).id).toBe('h1');
  });
});

describe('TLVs', () => {
  it('takes the id from receipted_message_id over the text', () => {
    expect(receiptOf(readDeliverSm(pdu(DEFAULT_FORMAT, { receiptedMessageId: 'tlv-id' }))).id).toBe('tlv-id');
  });

  it('takes the state from message_state over the text, and the text when the TLV value is not SMPP 3.4', () => {
    expect(receiptOf(readDeliverSm(pdu(DEFAULT_FORMAT, { messageState: 5 }))).stat).toBe('UNDELIV');
    expect(receiptOf(readDeliverSm(pdu(DEFAULT_FORMAT, { messageState: 42 }))).stat).toBe('DELIVRD');
  });

  it('reads message_payload when short_message is empty', () => {
    const reading = readDeliverSm(pdu('', { messagePayload: Buffer.from(DEFAULT_FORMAT) }));
    expect(receiptOf(reading).id).toBe('0123456789');
  });

  it('makes a receipt of TLVs alone', () => {
    expect(receiptOf(readDeliverSm(pdu('', { receiptedMessageId: 'only-tlv', messageState: 2 })))).toMatchObject({ id: 'only-tlv', stat: 'DELIVRD' });
  });
});

describe('what is a receipt', () => {
  it('takes esm_class 0x04 (receipt) and 0x20 (intermediate notification)', () => {
    expect(readDeliverSm(pdu(DEFAULT_FORMAT, { esmClass: 0x20 })).kind).toBe('receipt');
  });

  it('takes a receipt text even when the gateway left esm_class at 0', () => {
    expect(readDeliverSm(pdu(DEFAULT_FORMAT, { esmClass: 0 })).kind).toBe('receipt');
  });

  it('tells an incoming message from a receipt', () => {
    expect(readDeliverSm(pdu('Hello, is this the shop?', { esmClass: 0 }))).toEqual({ kind: 'not a receipt', text: 'Hello, is this the shop?' });
  });

  it('refuses a receipt without an id, naming the problem', () => {
    expect(readDeliverSm(pdu('stat:DELIVRD err:000'))).toMatchObject({
      kind: 'unreadable',
      problem: 'the receipt has no id (neither receipted_message_id nor "id:" in its text)',
    });
  });

  it('reads a receipt with a date that is not one without that date, naming what is wrong with it', () => {
    const impossible = readDeliverSm(pdu('id:d1 submit date:2502300937 done date:2503011000 stat:DELIVRD'));
    expect(impossible).toMatchObject({ kind: 'receipt', unreadDates: ['submit date is not a real date-time: "2502300937"'] });
    expect(receiptOf(impossible)).toMatchObject({ id: 'd1', stat: 'DELIVRD', submitDate: null, doneDate: new Date('2025-03-01T10:00:00Z') });

    const written = readDeliverSm(pdu('id:d2 submit date:20251119093735 done date:25-11-19 stat:UNDELIV err:108'));
    expect(written).toMatchObject({
      kind: 'receipt',
      unreadDates: ['submit date must be YYMMDDhhmm or YYMMDDhhmmss, got "20251119093735"', 'done date must be YYMMDDhhmm or YYMMDDhhmmss, got "25-11-19"'],
      payload: { fields: { 'submit date': '20251119093735', 'done date': '25-11-19' } },
    });
    expect(receiptOf(written)).toMatchObject({ stat: 'UNDELIV', err: '108', submitDate: null, doneDate: null });

    expect(readDeliverSm(pdu(DEFAULT_FORMAT))).toMatchObject({ kind: 'receipt', unreadDates: [] });
  });

  it('refuses an id longer than the receiver stores', () => {
    expect(readDeliverSm(pdu(`id:${'x'.repeat(300)} stat:DELIVRD`))).toMatchObject({ kind: 'unreadable', problem: 'id is longer than 256 characters' });
  });

  it('keeps the receipt as it arrived in its payload, its text and each field', () => {
    const reading = readDeliverSm(pdu(DEFAULT_FORMAT, { messageState: 2 }));
    if (reading.kind !== 'receipt') throw new Error('not a receipt');
    expect(reading.payload).toMatchObject({ short_message: DEFAULT_FORMAT, message_state: 2, esm_class: 4, fields: { 'submit date': '2511190937', text: 'Hello' } });
  });
});

describe('pieces', () => {
  it('finds each field once, the first of a name winning', () => {
    expect(Object.fromEntries(receiptFields('id:1 id:2 stat:X'))).toEqual({ id: '1', stat: 'X' });
  });

  it('reads dates as UTC in the years 2000-2099', () => {
    expect(receiptDate('done date', '991231235959')).toEqual(new Date('2099-12-31T23:59:59Z'));
    expect(receiptDate('done date', '0002290000')).toEqual(new Date('2000-02-29T00:00:00Z'));
    expect(receiptDate('done date', '2511192460')).toBeInstanceOf(Error);
  });

  it('reads a leap second at the end of a month as the second after it, as a REST report\'s', () => {
    expect(receiptDate('done date', '161231235960')).toEqual(new Date('2017-01-01T00:00:00Z'));
    expect(receiptDate('done date', '150630235960')).toEqual(new Date('2015-07-01T00:00:00Z'));
    expect(receiptDate('done date', '151119235960')).toEqual(new Error('done date is not a real date-time: "151119235960"'));
    expect(receiptDate('done date', '161231235860')).toEqual(new Error('done date is not a real date-time: "161231235860"'));
  });
});
