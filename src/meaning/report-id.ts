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
  // Digits only: Number reads leading zeros (`abc$007` is 7), and a long run is above the largest.
  const part = Number(digits);
  if (part > MAX_PART_INDEX) {
    const written = digits.replace(/^0+/, '').slice(0, 12);
    return { ok: false, problem: `id "${id.slice(0, 64)}" names part ${written}, above the largest part number ${MAX_PART_INDEX}` };
  }
  return { ok: true, target: { messageId, part } };
}
