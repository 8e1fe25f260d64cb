/**
 * Reads an SMPP `deliver_sm` into a delivery receipt. The receipt's text follows SMPP 3.4 appendix B
 * and the gateway's quick start:
 *   id:I sub:S dlvrd:D submit date:YYMMDDhhmm[ss] done date:YYMMDDhhmm[ss] stat:D err:E text:…
 * Field names match without regard to case (`Text:`, `Stat:`), `submit_date` stands for
 * `submit date`, fields may be missing, and the `receipted_message_id` and `message_state` TLVs win
 * over the text's `id` and `stat`. Pure: the SMPP session hands in the PDU's fields.
 */
import type { DeliveryReceipt } from '../meaning/delivery-receipt.js';
import { statOfMessageState } from '../meaning/receipt-states.js';
import { withNulShown } from '../lib/nul-shown.js';
import { checkText, clip, parseDateTime } from './field-values.js';

/** The parts of a `deliver_sm` a receipt is read from; message bytes as they arrived. */
export interface DeliverSm {
  readonly esmClass: number;
  readonly dataCoding: number;
  readonly shortMessage: Buffer;
  /** The `message_payload` TLV, which carries the text when `short_message` is empty. */
  readonly messagePayload: Buffer | null;
  readonly receiptedMessageId: string | null;
  readonly messageState: number | null;
  readonly sourceAddr: string;
  readonly destinationAddr: string;
}

export type ReceiptReading =
  | {
      readonly kind: 'receipt';
      readonly receipt: DeliveryReceipt;
      readonly payload: ReceiptPayload;
      /** Each date the receipt is read without, as it could not be read, with what is wrong with it. */
      readonly unreadDates: readonly string[];
    }
  /** A `deliver_sm` that carries a message, not a receipt. */
  | { readonly kind: 'not a receipt'; readonly text: string }
  | { readonly kind: 'unreadable'; readonly problem: string; readonly text: string };

/** What is kept of a receipt as it arrived: its addresses, flags, TLVs and text fields. */
export interface ReceiptPayload {
  readonly source_addr: string;
  readonly destination_addr: string;
  readonly esm_class: number;
  readonly data_coding: number;
  readonly short_message: string;
  readonly receipted_message_id?: string;
  readonly message_state?: number;
  readonly fields: Readonly<Record<string, string>>;
}

// esm_class bits 2-5 give the message type (SMPP 3.4, 5.2.12).
const MESSAGE_TYPE_BITS = 0x3c;
const DELIVERY_RECEIPT = 0x04;
const INTERMEDIATE_NOTIFICATION = 0x20;
const UDH_INDICATOR = 0x40;
const UCS2 = 0x08;

// A NUL parts fields as a space does: gateways that write the text as a C string end it with one
// (and count it in sm_length), some between fields too.
const FIELD_NAME = /(?:^|[\s,;\0])(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text)\s*:/gi;
const EDGE_SPACE_OR_NUL = /^[\s\0]+|[\s\0]+$/g;

export function readDeliverSm(pdu: DeliverSm): ReceiptReading {
  const text = messageText(pdu);
  const fields = receiptFields(text);
  const typeBits = pdu.esmClass & MESSAGE_TYPE_BITS;
  const flaggedAsReceipt = typeBits === DELIVERY_RECEIPT || typeBits === INTERMEDIATE_NOTIFICATION;
  // Some gateways leave esm_class at 0: a text with an id and a state is a receipt all the same.
  const looksLikeReceipt = fields.has('id') && fields.has('stat');
  if (!flaggedAsReceipt && pdu.receiptedMessageId === null && !looksLikeReceipt) return { kind: 'not a receipt', text };

  const read = receiptOf(pdu, fields);
  if (typeof read === 'string') return { kind: 'unreadable', problem: read, text };
  return { kind: 'receipt', receipt: read.receipt, payload: payloadOf(pdu, text, fields), unreadDates: read.unreadDates };
}

/** The message's text: `message_payload` when `short_message` is empty; UCS-2 or else one byte a character. */
function messageText(pdu: DeliverSm): string {
  let bytes = pdu.shortMessage.length > 0 || pdu.messagePayload === null ? pdu.shortMessage : pdu.messagePayload;
  if ((pdu.esmClass & UDH_INDICATOR) !== 0 && bytes.length > 0) bytes = bytes.subarray((bytes[0] ?? 0) + 1);
  // Receipt text is IA5 (ASCII); latin1 reads every byte as itself, so `$` and `_` stay as they are.
  return (pdu.dataCoding & 0x0f) === UCS2 ? new TextDecoder('utf-16be').decode(bytes) : bytes.toString('latin1');
}

/** Each field's value, by its lower-case name with a space (`submit date`); the first of a name wins. */
export function receiptFields(text: string): Map<string, string> {
  const found = [...text.matchAll(FIELD_NAME)];
  const fields = new Map<string, string>();
  for (const [index, match] of found.entries()) {
    const name = String(match[1]).toLowerCase().replace('_', ' ');
    const start = match.index + match[0].length;
    // `text:` runs to the end: what a message says may itself look like a field.
    const end = name === 'text' ? text.length : (found[index + 1]?.index ?? text.length);
    if (!fields.has(name)) fields.set(name, fieldValue(text.slice(start, end)));
    if (name === 'text') break;
  }
  return fields;
}

/**
 * A field's text without the spaces and NULs around it; a NUL within it is shown as in the kept
 * `short_message`. Refusing the receipt for it would lose its state.
 */
function fieldValue(raw: string): string {
  return withNulShown(raw.replace(EDGE_SPACE_OR_NUL, ''));
}

/**
 * The receipt, or the problem that keeps it from being one. A date that cannot be read (a month 13,
 * a four-digit year, a carrier's placeholder) is read as absent, its text kept in the payload: the
 * receipt's state is what its message's sender asks about, and a receipt refused is never sent
 * again (it is acknowledged all the same, or the gateway would hold every receipt behind it).
 */
function receiptOf(pdu: DeliverSm, fields: ReadonlyMap<string, string>): { receipt: DeliveryReceipt; unreadDates: string[] } | string {
  const value = (name: string): string | null => {
    const text = fields.get(name);
    return text === undefined || text === '' ? null : text;
  };
  const id = nonEmpty(pdu.receiptedMessageId) ?? value('id');
  if (id === null) return 'the receipt has no id (neither receipted_message_id nor "id:" in its text)';
  const checkedId = checkText('id', id);
  if (!checkedId.ok) return checkedId.problem;
  const unreadDates: string[] = [];
  const dateOf = (field: string): Date | null => {
    const date = receiptDate(field, value(field));
    if (!(date instanceof Error)) return date;
    unreadDates.push(date.message);
    return null;
  };
  const submitDate = dateOf('submit date');
  const doneDate = dateOf('done date');
  const tlvStat = pdu.messageState === null ? null : statOfMessageState(pdu.messageState);
  for (const name of ['sub', 'dlvrd', 'stat', 'err']) {
    const checked = checkText(name, value(name) ?? '');
    if (!checked.ok) return checked.problem;
  }
  const receipt: DeliveryReceipt = {
    id: checkedId.value,
    submitted: value('sub'),
    delivered: value('dlvrd'),
    submitDate,
    doneDate,
    stat: tlvStat ?? value('stat'),
    err: value('err'),
    // A receipt travels back: its source is the handset the message went to.
    source: nonEmpty(pdu.destinationAddr),
    destination: nonEmpty(pdu.sourceAddr),
  };
  return { receipt, unreadDates };
}

const RECEIPT_DATE = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/;

/**
 * YYMMDDhhmm or YYMMDDhhmmss, in UTC (the gateway's time zone), years 2000-2099. The calendar is the
 * REST reports': a leap second (`235960` at the end of a month) is read as the second after it.
 */
export function receiptDate(field: string, text: string | null): Date | null | Error {
  if (text === null) return null;
  const match = RECEIPT_DATE.exec(text);
  if (match === null) return new Error(`${field} must be YYMMDDhhmm or YYMMDDhhmmss, got "${clip(text)}"`);
  const [year, month, day, hour, minute, second = '00'] = match.slice(1);
  const read = parseDateTime(field, `20${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
  return read.ok ? read.value : new Error(`${field} is not a real date-time: "${clip(text)}"`);
}

function payloadOf(pdu: DeliverSm, text: string, fields: ReadonlyMap<string, string>): ReceiptPayload {
  return {
    source_addr: pdu.sourceAddr,
    destination_addr: pdu.destinationAddr,
    esm_class: pdu.esmClass,
    data_coding: pdu.dataCoding,
    short_message: withNulShown(text),
    ...(pdu.receiptedMessageId === null ? {} : { receipted_message_id: pdu.receiptedMessageId }),
    ...(pdu.messageState === null ? {} : { message_state: pdu.messageState }),
    fields: Object.fromEntries(fields),
  };
}

function nonEmpty(text: string | null): string | null {
  return text === null || text.trim() === '' ? null : text.trim();
}
