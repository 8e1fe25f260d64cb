/** Reports as intake hands them to storage, for tests below the HTTP layer. */
import { interpretReport } from '../../src/meaning/interpret-report.js';
import type { ReportToStore } from '../../src/storage/write-reports.js';

export function reportToStore(id: string, timestamp: Date | null = null): ReportToStore {
  const report = interpretReport({
    id,
    resultCode: 1001,
    refId: null,
    operator: null,
    operatorResultCode: null,
    segments: 1,
    sentTimestamp: null,
    timestamp,
    customParameters: {},
    gateCustomParameters: {},
  });
  if (!report.ok) throw new Error(report.problem);
  return { report: report.value, payloadJson: JSON.stringify({ id }), format: 'json', gate: null, remoteAddress: '127.0.0.1', receivedAt: new Date() };
}

/** Texts that a value sent inside SQL as a literal must survive exactly: quotes, backslashes, SQL, escapes. */
export const AWKWARD = [
  "it's",
  "''",
  '\\',
  "\\'",
  "\\'; DROP TABLE reports; --",
  "E'\\x41'",
  '$$ $tag$',
  'line\nbreak\ttab\r',
  'ø æ å ✓ 😀',
  '\\u0041 \\n',
];
