/**
 * The `smpp` package, set up once for reading receipts. It decodes a message's text itself, through
 * the GSM 03.38 table for the default and IA5 codings, which turns a receipt's `$` into `¤` and `_`
 * into `§`. Receipt ids need every character as sent, so `short_message` and `message_payload`
 * stay raw bytes here and the receipt reader decodes them.
 */
import smpp from 'smpp';

const shortMessage = smpp.commands.deliver_sm?.params?.short_message;
if (shortMessage !== undefined) delete shortMessage.filter;
const messagePayload = smpp.tlvs.message_payload;
if (messagePayload !== undefined) delete messagePayload.filter;

/*
 * The package reads a TLV's value at its offset whatever length the TLV declares: a C string up to
 * the next NUL, a number from the bytes that are there. A `receipted_message_id` sent without its
 * closing NUL, as some gateways send it, took in the next TLV's tag; a `message_state` of length 0
 * read the next TLV's first byte as the state or, as the last TLV, threw, which dropped the link,
 * and the gateway sent the same receipt again on every bind, holding back all behind it. Each TLV
 * is read within its length, and one too short for its type is read as absent.
 */
for (const tlv of Object.values(smpp.tlvs)) {
  const type = tlv.type;
  tlv.type = { ...type, read: (buffer, offset, length = 0) => readWithin(type, buffer.subarray(offset, offset + length)) };
}

function readWithin(type: smpp.FieldType, value: Buffer): unknown {
  try {
    return type.read(value, 0, value.length);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/*
 * Some fields are decoded further (a time into a Date, a `callback_num` into its parts), and a value
 * that does not decode (one byte of `callback_num`) threw, with the same end as above. None of them
 * is what a receipt is read from: one that does not decode is kept as it came.
 */
const receiptParams = [smpp.commands.deliver_sm, smpp.commands.data_sm].flatMap((command) => Object.values(command?.params ?? {}));
for (const field of [...receiptParams, ...Object.values(smpp.tlvs)]) {
  const filter = field.filter;
  if (filter === undefined) continue;
  field.filter = {
    ...filter,
    decode(value, skipUdh) {
      try {
        return filter.decode.call(this, value, skipUdh);
      } catch {
        return value;
      }
    },
  };
}

export { smpp };
export type SmppSession = smpp.Session;
export type SmppPdu = smpp.Pdu;

/** Command status codes (SMPP 3.4, 5.1.3) the receiver answers or looks for. */
export const COMMAND_STATUS = {
  ok: 0x0000,
  invalidCommandId: 0x0003,
  bindFailed: 0x000d,
  invalidPassword: 0x000e,
  invalidSystemId: 0x000f,
  /** ESME_RX_T_APPN: a temporary error of ours; the gateway delivers the PDU again later. */
  temporaryAppError: 0x0064,
} as const;

/** The name SMPP gives a command status (`ESME_RINVPASWD`), or its number in hex. */
export function commandStatusName(status: number): string {
  const name = Object.entries(smpp.errors).find(([, code]) => code === status)?.[0];
  return name ?? `0x${status.toString(16).padStart(8, '0')}`;
}
