/** What an SMPP receipt means: its stat, its err, and the report it becomes. */
import { describe, expect, it } from 'vitest';
import type { DeliveryReceipt } from '../../src/meaning/delivery-receipt.js';
import { interpretReceipt } from '../../src/meaning/interpret-receipt.js';
import { meaningOfStat, statOfMessageState } from '../../src/meaning/receipt-states.js';
import { describeErr, KNOWN_ERR_CODES, UNRECOGNISED_ERR_DESCRIPTION } from '../../src/meaning/smpp-error-codes.js';

describe('stat', () => {
  it.each([
    ['DELIVRD', 'delivered', true, 'DELIVERED'],
    ['EXPIRED', 'failed', true, 'NOT_DELIVERED'],
    ['DELETED', 'failed', true, 'NOT_DELIVERED'],
    ['UNDELIV', 'failed', true, 'NOT_DELIVERED'],
    ['REJECTD', 'failed', true, 'NOT_DELIVERED'],
    ['UNKNOWN', 'unknown', true, 'UNKNOWN'],
    ['ACCEPTD', 'delivered', true, 'DELIVERED'],
    ['ENROUTE', 'pending', false, 'NOT_DELIVERED'],
    ['BUFFRED', 'pending', false, 'NOT_DELIVERED'],
  ] as const)('%s is %s, final %s, delivery %s', (stat, status, final, delivery) => {
    expect(meaningOfStat(stat)).toMatchObject({ status, final, delivery });
  });

  it("uses the document's descriptions", () => {
    expect(meaningOfStat('DELIVRD').description).toBe('Message is delivered to destination.');
    expect(meaningOfStat('ACCEPTD').description).toBe(
      'Message is in accepted state (i.e. has been manually read on behalf of the subscriber by customer service).',
    );
  });

  it('matches in any case', () => {
    expect(meaningOfStat('delivrd').status).toBe('delivered');
  });

  it("reads a state's name in full, as the document's table and SMPP 3.4 give it, as its word", () => {
    expect(['DELIVERED', 'UNDELIVERABLE', 'ACCEPTED', 'REJECTED', 'Scheduled'].map((stat) => meaningOfStat(stat).stat)).toEqual([
      'DELIVRD', 'UNDELIV', 'ACCEPTD', 'REJECTD', 'SCHEDLD',
    ]);
    expect(meaningOfStat('delivered')).toMatchObject({ status: 'delivered', final: true, description: 'Message is delivered to destination.' });
    expect(meaningOfStat('UNDELIVERABLE')).toMatchObject({ status: 'failed', final: true });
  });

  it('leaves a state it does not know, or none, unknown and not final', () => {
    expect(meaningOfStat('WHATEVR')).toMatchObject({ status: 'unknown', final: false, description: 'Unrecognised receipt state' });
    expect(meaningOfStat(null)).toMatchObject({ status: 'unknown', final: false, description: 'Receipt without a state' });
  });

  it('reads the message_state TLV as the stat it stands for', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(statOfMessageState)).toEqual([
      'SCHEDLD', 'ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', null,
    ]);
  });
});

describe('err', () => {
  it("holds every code of the document's response-code table, 117 and 118 apart", () => {
    // The table runs 0, 1, 9, 10, 11, 100-137, 200-255, 901-949, 998, 999: 124 codes.
    expect(KNOWN_ERR_CODES).toHaveLength(124);
    expect(KNOWN_ERR_CODES.slice(0, 5)).toEqual([0, 1, 9, 10, 11]);
    expect(KNOWN_ERR_CODES.slice(-2)).toEqual([998, 999]);
    expect(describeErr('117')).toBe('SMS lower layer not provisioned');
    expect(describeErr('118')).toBe('System fail');
  });

  it('reads leading zeros: 000 is OK, 0108 is a delivery failure', () => {
    expect(describeErr('000')).toBe('OK');
    expect(describeErr('0108')).toBe('Delivery fail');
  });

  it('says when a code is not in the table, or not a number', () => {
    expect(describeErr('777')).toBe(UNRECOGNISED_ERR_DESCRIPTION);
    expect(describeErr('0x1f')).toBe(UNRECOGNISED_ERR_DESCRIPTION);
  });
});

describe('the report a receipt becomes', () => {
  const receipt: DeliveryReceipt = {
    id: 'msg-7$1',
    submitted: '001',
    delivered: '000',
    submitDate: new Date('2025-11-19T09:37:00Z'),
    doneDate: new Date('2025-11-19T09:38:00Z'),
    stat: 'undeliv',
    err: '101',
    source: 'LINK',
    destination: '4799999999',
  };

  it('has no result code, and carries stat, err and its description instead', () => {
    const report = interpretReceipt(receipt);
    if (!report.ok) throw new Error(report.problem);
    expect(report.value).toMatchObject({
      messageId: 'msg-7',
      part: 1,
      resultCode: null,
      status: 'failed',
      final: true,
      stat: 'UNDELIV',
      err: '101',
      errDescription: 'Unknown subscriber',
      sentTimestamp: receipt.submitDate,
      timestamp: receipt.doneDate,
      source: 'LINK',
      destination: '4799999999',
    });
  });

  it('is the same report when the gateway sends the same receipt again, and another when its state differs', () => {
    const fingerprint = (changes: Partial<DeliveryReceipt>) => {
      const report = interpretReceipt({ ...receipt, ...changes });
      if (!report.ok) throw new Error(report.problem);
      return report.value.fingerprint;
    };
    expect(fingerprint({})).toBe(fingerprint({}));
    expect(fingerprint({ stat: 'DELIVRD' })).not.toBe(fingerprint({}));
    expect(fingerprint({ doneDate: new Date('2025-11-19T09:39:00Z') })).not.toBe(fingerprint({}));
  });

  it('refuses a part number above the largest there can be', () => {
    expect(interpretReceipt({ ...receipt, id: 'msg$300' })).toMatchObject({ ok: false });
  });
});
