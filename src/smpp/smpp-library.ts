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
