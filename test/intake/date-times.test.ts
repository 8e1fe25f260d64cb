/** How intake reads a date-time: RFC 3339 and LINK's variants, checked against the calendar. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDateTime } from '../../src/intake/field-values.js';

const two = (value: number) => String(value).padStart(2, '0');

/** Components of a real date-time, with a fraction of 0-15 digits (RFC 3339 sets no limit) and an offset in minutes. */
const realDateTime = fc.record({
  // From 2 to 9998: early in the year 1 a positive offset lands before it in UTC, late in 9999 a
  // negative one past it (both refused, see below).
  year: fc.integer({ min: 2, max: 9998 }),
  month: fc.integer({ min: 1, max: 12 }),
  dayOfMonth: fc.integer({ min: 1, max: 31 }),
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.integer({ min: 0, max: 59 }),
  second: fc.integer({ min: 0, max: 59 }),
  fraction: fc.stringMatching(/^\d{0,15}$/),
  offsetMinutes: fc.integer({ min: -14 * 60, max: 14 * 60 }),
  separator: fc.constantFrom('T', 't', ' '),
  colon: fc.boolean(),
});

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

describe('a date-time', () => {
  it('is the instant JavaScript reads from the same RFC 3339 text, whatever the separator, fraction and offset', () => {
    fc.assert(
      fc.property(realDateTime, (time) => {
        const day = Math.min(time.dayOfMonth, daysIn(time.year, time.month));
        const date = `${String(time.year).padStart(4, '0')}-${two(time.month)}-${two(day)}`;
        const clock = `${two(time.hour)}:${two(time.minute)}:${two(time.second)}`;
        const sign = time.offsetMinutes < 0 ? '-' : '+';
        const offset = `${two(Math.floor(Math.abs(time.offsetMinutes) / 60))}${time.colon ? ':' : ''}${two(Math.abs(time.offsetMinutes) % 60)}`;
        const fraction = time.fraction === '' ? '' : `.${time.fraction}`;
        const read = parseDateTime('timestamp', `${date}${time.separator}${clock}${fraction}${sign}${offset}`);
        // The reference: the same instant in the form Date parses, milliseconds cut as intake cuts them.
        const millis = time.fraction.padEnd(3, '0').slice(0, 3);
        const expected = new Date(`${date}T${clock}.${millis}${sign}${offset.includes(':') ? offset : `${offset.slice(0, 2)}:${offset.slice(2)}`}`);
        expect(read).toEqual({ ok: true, value: expected });
      }),
      { numRuns: 5_000 },
    );
  });

  it('without an offset is UTC', () => {
    expect(parseDateTime('timestamp', '2015-11-19 09:37:35')).toEqual({ ok: true, value: new Date('2015-11-19T09:37:35Z') });
    expect(parseDateTime('timestamp', ' 2016-02-29T23:59:59.9999 ')).toEqual({ ok: true, value: new Date('2016-02-29T23:59:59.999Z') });
    // Past nanoseconds too: RFC 3339 allows any number of digits in the fraction.
    expect(parseDateTime('timestamp', '2015-11-19T09:37:00.1234567891Z')).toEqual({ ok: true, value: new Date('2015-11-19T09:37:00.123Z') });
    expect(parseDateTime('timestamp', '2015-11-19T09:37:00.99999999999999999Z')).toEqual({ ok: true, value: new Date('2015-11-19T09:37:00.999Z') });
  });

  it('that the calendar or the clock does not have is refused, naming the field and the text', () => {
    for (const text of ['2015-02-29T10:00:00Z', '2100-02-29T10:00:00Z', '2015-04-31T10:00:00Z', '2015-13-01T10:00:00Z', '2015-00-10T10:00:00Z',
      '2015-11-00T10:00:00Z', '2015-11-19T24:00:00Z', '2015-11-19T10:60:00Z', '2015-11-19T10:00:60Z',
      '2015-11-19T10:00:00+24:00', '2015-11-19T10:00:00-0960', '2015-11-19 10:00:00+9999']) {
      expect(parseDateTime('sentTimestamp', text), text).toEqual({ ok: false, problem: `sentTimestamp is not a real date-time: "${text}"` });
    }
    expect(parseDateTime('timestamp', '2000-02-29T10:00:00Z')).toMatchObject({ ok: true });
  });

  it('with a leap second (:60 in the last second of a month in UTC) is read as the second after it, as PostgreSQL reads it', () => {
    expect(parseDateTime('timestamp', '2016-12-31T23:59:60Z')).toEqual({ ok: true, value: new Date('2017-01-01T00:00:00Z') });
    expect(parseDateTime('timestamp', '2015-06-30 23:59:60.5')).toEqual({ ok: true, value: new Date('2015-07-01T00:00:00.500Z') });
    expect(parseDateTime('timestamp', '2017-01-01T00:59:60+01:00')).toEqual({ ok: true, value: new Date('2017-01-01T00:00:00Z') });
    expect(parseDateTime('timestamp', '2015-06-30T18:29:60-05:30')).toEqual({ ok: true, value: new Date('2015-07-01T00:00:00Z') });
    // Anywhere else there is no 61st second.
    for (const text of ['2015-11-19T23:59:60Z', '2016-12-31T23:58:60Z', '2016-12-31T23:59:60+01:00', '2016-12-31T23:59:61Z']) {
      expect(parseDateTime('timestamp', text), text).toEqual({ ok: false, problem: `timestamp is not a real date-time: "${text}"` });
    }
  });

  it('that falls after the year 9999 in UTC is refused, as RFC 3339 cannot write it there', () => {
    expect(parseDateTime('timestamp', '9999-12-31T23:59:59-00:01')).toEqual({
      ok: false,
      problem: 'timestamp falls after the year 9999 in UTC: "9999-12-31T23:59:59-00:01"',
    });
    expect(parseDateTime('timestamp', '9999-12-31T23:59:59.999Z')).toEqual({ ok: true, value: new Date('9999-12-31T23:59:59.999Z') });
  });

  it('in the years 1 to 99 is that year, not 1901 to 1999 (as Date.UTC would read it): 0001-01-01 is a common "since ever"', () => {
    expect(parseDateTime('since', '0001-01-01T00:00:00Z')).toEqual({ ok: true, value: new Date('0001-01-01T00:00:00Z') });
    expect(parseDateTime('timestamp', '0099-11-19 10:00:00')).toEqual({ ok: true, value: new Date('0099-11-19T10:00:00Z') });
    expect(parseDateTime('timestamp', '0004-02-29T10:00:00+01:00')).toEqual({ ok: true, value: new Date('0004-02-29T09:00:00Z') });
    expect(parseDateTime('timestamp', '0001-02-29T10:00:00Z')).toMatchObject({ ok: false });
  });

  it('that falls before the year 1 in UTC is refused, as PostgreSQL has no year 0', () => {
    expect(parseDateTime('timestamp', '0001-01-01T00:00:00+00:01')).toEqual({
      ok: false,
      problem: 'timestamp falls before the year 1 in UTC: "0001-01-01T00:00:00+00:01"',
    });
    expect(parseDateTime('timestamp', '0000-06-01T00:00:00Z')).toMatchObject({ ok: false, problem: expect.stringContaining('before the year 1') as string });
  });
});
