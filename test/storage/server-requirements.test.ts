/**
 * The PostgreSQL server a receiver may store to: version 15 or later, in a UTF8 database. An older
 * server failed the first migration with a syntax error that named neither cause nor cure; another
 * encoding answered 503, for good, every report with a character it lacks.
 */
import { describe, expect, it } from 'vitest';
import { serverProblem } from '../../src/storage/server-requirements.js';

describe('the server the receiver stores to', () => {
  it('is PostgreSQL 15 or later, named as the server names its version', () => {
    expect(serverProblem({ versionNumber: 140011, version: '14.11 (Ubuntu 14.11-0ubuntu0.22.04.1)', encoding: 'UTF8' })).toBe(
      'the database server is PostgreSQL 14.11; the receiver needs PostgreSQL 15 or later',
    );
    expect(serverProblem({ versionNumber: 90624, version: '9.6.24', encoding: 'UTF8' })).toBe(
      'the database server is PostgreSQL 9.6.24; the receiver needs PostgreSQL 15 or later',
    );
    for (const [versionNumber, version] of [[150000, '15.0'], [150020, '15.20 (Debian 15.20-0+deb12u1)'], [170004, '17.4'], [180000, '18beta1']] as const) {
      expect(serverProblem({ versionNumber, version, encoding: 'UTF8' })).toBeNull();
    }
  });

  it('holds a UTF8 database, and says how to make one', () => {
    for (const encoding of ['LATIN1', 'SQL_ASCII', 'WIN1252']) {
      expect(serverProblem({ versionNumber: 160002, version: '16.2', encoding })).toBe(
        `the database is encoded ${encoding}, which cannot hold every character a report may carry; the receiver needs a UTF8 database (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)`,
      );
    }
  });
});
