/**
 * A message's state follows from its parts. A part's state is its deciding report; a part without a
 * report of its own takes the whole-message report (an id without `$n`), and without that it is pending.
 */
import type { ReportStatus } from './result-codes.js';

export type MessageStatus = 'pending' | 'delivered' | 'partially_delivered' | 'failed' | 'unknown';

export const MESSAGE_STATUSES: readonly MessageStatus[] = [
  'pending',
  'delivered',
  'partially_delivered',
  'failed',
  'unknown',
];

export interface PartDecider {
  readonly status: ReportStatus;
  readonly final: boolean;
  readonly seq: number;
}

export interface MessageParts<T extends PartDecider> {
  /** The largest `segments` any report of the message gave, or null. */
  readonly segments: number | null;
  /** The deciding report of each part that has reports of its own, by part number. */
  readonly parts: ReadonlyMap<number, T>;
  /** The deciding report among the whole-message reports, if any. */
  readonly whole: T | null;
}

export interface SegmentCounts {
  total: number;
  delivered: number;
  failed: number;
  unknown: number;
  pending: number;
}

export interface MessageState<T extends PartDecider> {
  readonly status: MessageStatus;
  readonly final: boolean;
  readonly segments: SegmentCounts;
  /** Each part that has a deciding report, in part order. */
  readonly decided: ReadonlyArray<{ readonly part: number; readonly report: T }>;
  /** The deciding report received last among the parts: it speaks for the message at the top. */
  readonly latest: T | null;
}

export function messageState<T extends PartDecider>(message: MessageParts<T>): MessageState<T> {
  const total = totalParts(message);
  const counts: SegmentCounts = { total, delivered: 0, failed: 0, unknown: 0, pending: 0 };
  const decided: Array<{ part: number; report: T }> = [];
  let final = true;
  let latest: T | null = null;

  for (let part = 0; part < total; part++) {
    const report = message.parts.get(part) ?? message.whole;
    if (report === null) {
      counts.pending += 1;
      final = false;
      continue;
    }
    counts[report.status] += 1;
    final &&= report.final;
    decided.push({ part, report });
    if (latest === null || report.seq > latest.seq) latest = report;
  }
  return { status: statusFromCounts(counts), final, segments: counts, decided, latest };
}

/** total = max(segments reported, parts seen, 1), where a report for part n shows n + 1 parts. */
export function totalParts(message: MessageParts<PartDecider>): number {
  let highestPart = -1;
  for (const part of message.parts.keys()) highestPart = Math.max(highestPart, part);
  return Math.max(message.segments ?? 0, highestPart + 1, 1);
}

export function statusFromCounts(counts: SegmentCounts): MessageStatus {
  if (counts.pending > 0) return 'pending';
  if (counts.delivered === counts.total) return 'delivered';
  if (counts.delivered > 0) return 'partially_delivered';
  if (counts.failed > 0) return 'failed';
  return 'unknown';
}
