/**
 * One journal line per accepted request: its reports as JSON, so that the line can be read back into
 * exactly what would have been stored. Dates travel as ISO strings and are revived on reading.
 *
 * Version 2 carries each payload as the JSON text to store (`payloadJson`); version 1, written by
 * earlier receivers, carried it as an object, and is still read.
 */
import { currentFingerprint } from '../meaning/fingerprint.js';
import type { InterpretedReport } from '../meaning/interpret-report.js';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';
import type { ReportToStore } from './write-reports.js';

const VERSION = 2;
const READABLE_VERSIONS: ReadonlySet<unknown> = new Set([1, VERSION]);

interface JournalLine {
  readonly v: number;
  readonly items: readonly ReportToStore[];
}

/** The line for one request's reports, with its closing newline. */
export function encodeJournalLine(items: readonly ReportToStore[]): string {
  const line: JournalLine = { v: VERSION, items };
  return `${JSON.stringify(line)}\n`;
}

/** Reads a line (without its newline) back into the request's reports. */
export function decodeJournalLine(text: string): Result<ReportToStore[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return problem('the journal line is not JSON');
  }
  if (!isRecord(parsed) || !READABLE_VERSIONS.has(parsed.v) || !Array.isArray(parsed.items)) {
    return problem(`the journal line is not a version 1 or ${VERSION} entry`);
  }
  const items: ReportToStore[] = [];
  for (const item of parsed.items as unknown[]) {
    const revived = reviveItem(item);
    if (revived === null) return problem('a report in the journal line lacks required fields');
    items.push(revived);
  }
  return ok(items);
}

function reviveItem(value: unknown): ReportToStore | null {
  if (!isRecord(value) || !isRecord(value.report) || typeof value.format !== 'string') return null;
  const receivedAt = dateOf(value.receivedAt);
  const report = value.report;
  // Lines written before fingerprints were UUIDs carry the whole hash.
  const fingerprint = typeof report.fingerprint === 'string' ? currentFingerprint(report.fingerprint) : null;
  if (receivedAt === null || typeof report.messageId !== 'string' || fingerprint === null) return null;
  return {
    report: {
      ...(report as unknown as InterpretedReport),
      fingerprint,
      sentTimestamp: dateOf(report.sentTimestamp),
      timestamp: dateOf(report.timestamp),
      // Lines written before receipts were taken have no receipt fields.
      stat: textOf(report.stat),
      err: textOf(report.err),
      errDescription: textOf(report.errDescription),
    },
    payloadJson: typeof value.payloadJson === 'string' ? value.payloadJson : JSON.stringify(value.payload ?? null),
    format: value.format,
    gate: typeof value.gate === 'string' ? value.gate : null,
    remoteAddress: typeof value.remoteAddress === 'string' ? value.remoteAddress : null,
    receivedAt,
  };
}

function dateOf(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function textOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
