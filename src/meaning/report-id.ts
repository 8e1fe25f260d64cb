/**
 * A report's `id` names a message or one part of it: LINK reports part n of a multipart message
 * as `{messageId}${n}`, n counted from 0. An id without that suffix speaks for the whole message.
 */

/** GSM concatenation numbers parts with one byte, so a message has at most 255 parts (0..254). */
export const MAX_PART_INDEX = 254;
export const MAX_ID_LENGTH = 256;

export interface ReportTarget {
  readonly messageId: string;
  /** The part's ordinal, or null when the report speaks for the whole message. */
  readonly part: number | null;
}

export type ReportIdResult = { ok: true; target: ReportTarget } | { ok: false; problem: string };

const PART_SUFFIX = /^(.*)\$(\d+)$/s;

export function parseReportId(id: string): ReportIdResult {
  if (id.length > MAX_ID_LENGTH) {
    return { ok: false, problem: `id is longer than ${MAX_ID_LENGTH} characters` };
  }
  const match = PART_SUFFIX.exec(id);
  if (match === null) {
    // `abc$`, `abc$x` or `abc$-1` carry no part number: the whole text is the message's id.
    return { ok: true, target: { messageId: id, part: null } };
  }
  const [, messageId = '', digits = ''] = match;
  if (messageId === '') {
    return { ok: false, problem: `id "${id}" has a part number but no message id before the "$"` };
  }
  // Leading zeros (`abc$007`) do not make a number larger; more than three digits after them do.
  const significant = digits.replace(/^0+(?=\d)/, '');
  const part = significant.length > 3 ? Number.POSITIVE_INFINITY : Number(significant);
  if (part > MAX_PART_INDEX) {
    return { ok: false, problem: `id "${id.slice(0, 64)}" names part ${significant.slice(0, 12)}, above the largest part number ${MAX_PART_INDEX}` };
  }
  return { ok: true, target: { messageId, part } };
}
