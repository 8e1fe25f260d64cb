/**
 * A report's fingerprint is what tells a retry from a new report, and it is stored: the same facts
 * must give the same fingerprint in every release, or a retry that arrives after an upgrade would
 * be stored a second time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/lib/iso-time.js';
import { interpretReceipt } from '../../src/meaning/interpret-receipt.js';
import { interpretReport } from '../../src/meaning/interpret-report.js';

describe('a fingerprint', () => {
  it('of a REST report is the one receivers have stored for the same report', () => {
    const report = interpretReport({
      id: 'abc123$1',
      resultCode: 1001,
      refId: 'order-17',
      operator: 'no.telenor',
      operatorResultCode: '2',
      segments: 2,
      sentTimestamp: new Date('2015-11-19T09:37:35Z'),
      timestamp: new Date('2015-11-19T09:37:00.120Z'),
      customParameters: {},
      gateCustomParameters: {},
    });
    expect(report).toMatchObject({ ok: true, value: { fingerprint: 'f81cfaaf-a163-85d1-247c-92b98f84dace' } });
    const sparse = interpretReport({
      id: 'old',
      resultCode: 1005,
      refId: null,
      operator: null,
      operatorResultCode: null,
      segments: null,
      sentTimestamp: new Date('0999-12-31T23:59:59.999Z'),
      timestamp: null,
      customParameters: {},
      gateCustomParameters: {},
    });
    expect(sparse).toMatchObject({ ok: true, value: { fingerprint: '62feea60-35e0-a79b-e4f9-62a37010244f' } });
  });

  it('of an SMPP receipt is the one receivers have stored for the same receipt', () => {
    const receipt = interpretReceipt({
      id: 'smpp-1',
      submitted: '001',
      delivered: '001',
      submitDate: new Date('2026-11-22T10:00:00Z'),
      doneDate: new Date('2026-11-22T10:00:07Z'),
      stat: 'DELIVRD',
      err: '000',
      source: '4799999999',
      destination: 'LINK',
    });
    expect(receipt).toMatchObject({ ok: true, value: { fingerprint: '01fe43fa-61dd-052b-4ccb-8ee5dd4c70c2' } });
  });
});

describe('a time among the facts', () => {
  it('is written as Date#toISOString writes it, for every time a Date holds', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), (date) => {
        expect(isoTime(date)).toBe(date.toISOString());
      }),
      { numRuns: 5_000 },
    );
    for (const text of ['1000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '2016-02-29T12:05:09.007Z']) {
      expect(isoTime(new Date(text))).toBe(text);
    }
  });
});
