/**
 * What an SMPP delivery receipt's `stat` says (SMPP quick start, "Delivery Receipts Message State",
 * and SMPP 3.4's message states), and the `message_state` TLV's numbers for the same states.
 */
import type { Delivery, ReportStatus } from './result-codes.js';

export interface ReceiptStateMeaning {
  readonly stat: string;
  readonly description: string;
  readonly status: ReportStatus;
  readonly final: boolean;
  readonly delivery: Delivery;
}

type Row = readonly [stat: string, description: string, status: ReportStatus, final: boolean];

// ACCEPTD: the document says the message "has been manually read on behalf of the subscriber by
// customer service", and SMPP 3.4 counts ACCEPTED among the final states: its content reached the
// recipient's side, so it counts as delivered, and final.
const ROWS: readonly Row[] = [
  ['DELIVRD', 'Message is delivered to destination.', 'delivered', true],
  ['EXPIRED', 'Message validity period has expired.', 'failed', true],
  ['DELETED', 'Message has been deleted.', 'failed', true],
  ['UNDELIV', 'Message is undeliverable.', 'failed', true],
  ['ACCEPTD', 'Message is in accepted state (i.e. has been manually read on behalf of the subscriber by customer service).', 'delivered', true],
  ['UNKNOWN', 'Message is in invalid state.', 'unknown', true],
  ['REJECTD', 'Message is in a rejected state.', 'failed', true],
  // Intermediate notifications: the message is still on its way.
  ['ENROUTE', 'Message is on its way (intermediate state).', 'pending', false],
  ['BUFFRED', 'Message is buffered for a later delivery attempt (intermediate state).', 'pending', false],
  ['SCHEDLD', 'Message is scheduled for later delivery (intermediate state).', 'pending', false],
  ['ACKED', 'Message was acknowledged by the network (intermediate state).', 'pending', false],
];

export const UNRECOGNISED_STAT_DESCRIPTION = 'Unrecognised receipt state';
export const MISSING_STAT_DESCRIPTION = 'Receipt without a state';

const TABLE: ReadonlyMap<string, ReceiptStateMeaning> = new Map(
  ROWS.map(([stat, description, status, final]) => [stat, { stat, description, status, final, delivery: deliveryOf(status) }]),
);

/** Every `stat` value with a meaning, in table order. */
export const KNOWN_STATS: readonly string[] = ROWS.map(([stat]) => stat);

function deliveryOf(status: ReportStatus): Delivery {
  if (status === 'delivered') return 'DELIVERED';
  if (status === 'unknown') return 'UNKNOWN';
  return 'NOT_DELIVERED';
}

/**
 * The states by their names in full, as the quick start's table gives them beside the `stat` words
 * (its "Message State" column) and SMPP 3.4 names them (5.2.28): a gateway that writes
 * `stat:DELIVERED` means `DELIVRD`, and would otherwise leave every message unknown.
 */
const STAT_BY_STATE_NAME: ReadonlyMap<string, string> = new Map([
  ['DELIVERED', 'DELIVRD'],
  ['UNDELIVERABLE', 'UNDELIV'],
  ['ACCEPTED', 'ACCEPTD'],
  ['REJECTED', 'REJECTD'],
  ['SCHEDULED', 'SCHEDLD'],
]);

/**
 * What a `stat` means, matched without regard to case, by its word or its state's name in full; a
 * value the table lacks (or none) is unknown and not final, like a result code the REST table
 * lacks, and the receipt is still stored.
 */
export function meaningOfStat(stat: string | null): ReceiptStateMeaning {
  const word = stat?.toUpperCase();
  const known = word === undefined ? undefined : TABLE.get(STAT_BY_STATE_NAME.get(word) ?? word);
  if (known !== undefined) return known;
  return {
    stat: stat ?? '',
    description: stat === null ? MISSING_STAT_DESCRIPTION : UNRECOGNISED_STAT_DESCRIPTION,
    status: 'unknown',
    final: false,
    delivery: 'UNKNOWN',
  };
}

/** SMPP 3.4 `message_state` TLV values, as the `stat` word each stands for (5.2.28). */
const STAT_BY_MESSAGE_STATE: ReadonlyMap<number, string> = new Map([
  [0, 'SCHEDLD'],
  [1, 'ENROUTE'],
  [2, 'DELIVRD'],
  [3, 'EXPIRED'],
  [4, 'DELETED'],
  [5, 'UNDELIV'],
  [6, 'ACCEPTD'],
  [7, 'UNKNOWN'],
  [8, 'REJECTD'],
]);

/** The `stat` word a `message_state` TLV stands for, or null for a value SMPP 3.4 does not define. */
export function statOfMessageState(state: number): string | null {
  return STAT_BY_MESSAGE_STATE.get(state) ?? null;
}
