/**
 * A real SMPP server in the test process, playing LINK's gateway: it checks `system_id` and
 * `password`, counts binds and keepalives, sends `deliver_sm` (or `data_sm`) receipts one at a time
 * (window 1) and hands back the receiver's answer.
 */
import type { AddressInfo } from 'node:net';
import type { SmppPdu, SmppSession } from '../../src/smpp/smpp-library.js';
import { COMMAND_STATUS, smpp } from '../../src/smpp/smpp-library.js';

export interface BindAttempt {
  readonly command: string;
  readonly systemId: string;
  readonly accepted: boolean;
  readonly at: number;
}

export interface FakeGateway {
  readonly port: number;
  /** `SMPP_URL` for this gateway with the given credentials. */
  readonly url: (systemId: string, password: string) => string;
  readonly binds: BindAttempt[];
  /** `enquire_link`s the receiver sent, by arrival time. */
  readonly enquireLinks: number[];
  /** `unbind`s the receiver sent. */
  readonly unbinds: number[];
  /** Waits until a session is bound and gives it. */
  readonly bound: () => Promise<SmppSession>;
  /** Sends a `deliver_sm` on the bound session; resolves with the receiver's answer. */
  readonly deliver: (params: Record<string, unknown>) => Promise<SmppPdu>;
  /** Sends a `data_sm`, as a gateway that sends its receipts so does; resolves with the receiver's answer. */
  readonly sendDataSm: (params: Record<string, unknown>) => Promise<SmppPdu>;
  /**
   * Sends a `deliver_sm` whose TLVs are the given bytes, as a gateway that encodes them loosely
   * would; resolves with the receiver's answer, and fails if the receiver drops the link instead.
   */
  readonly deliverWithRawTlvs: (params: Record<string, unknown>, tlvs: Buffer) => Promise<SmppPdu>;
  /** Cuts every connection, as a network failure would. */
  readonly dropConnections: () => void;
  readonly close: () => Promise<void>;
}

export interface GatewayOptions {
  readonly systemId: string;
  readonly password: string;
  /** A key and certificate to serve TLS with (`smpps://`). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** The loopback address to listen on; 127.0.0.1 unless told. */
  readonly address?: '127.0.0.1' | '::1';
}

export async function startFakeGateway(options: GatewayOptions): Promise<FakeGateway> {
  const binds: BindAttempt[] = [];
  const enquireLinks: number[] = [];
  const unbinds: number[] = [];
  let boundSession: SmppSession | null = null;
  let boundWaiters: Array<(session: SmppSession) => void> = [];

  const server = smpp.createServer(options.tls === undefined ? {} : { key: options.tls.key, cert: options.tls.cert }, (session) => {
    session.on('error', () => undefined);
    session.on('close', () => {
      if (boundSession === session) boundSession = null;
    });
    const onBind = (pdu: SmppPdu) => {
      const accepted = pdu.system_id === options.systemId && pdu.password === options.password;
      binds.push({ command: pdu.command, systemId: String(pdu.system_id), accepted, at: Date.now() });
      session.send(pdu.response({ command_status: accepted ? COMMAND_STATUS.ok : COMMAND_STATUS.invalidPassword, system_id: 'fake-gateway' }));
      if (!accepted) return;
      boundSession = session;
      for (const wake of boundWaiters) wake(session);
      boundWaiters = [];
    };
    session.on('bind_receiver', onBind);
    session.on('bind_transceiver', onBind);
    session.on('enquire_link', (pdu: SmppPdu) => {
      enquireLinks.push(Date.now());
      session.send(pdu.response());
    });
    session.on('unbind', (pdu: SmppPdu) => {
      unbinds.push(Date.now());
      session.send(pdu.response());
    });
  });
  // Far above the package's own numbering, so that a raw deliver_sm never shares a number with it.
  let rawSequence = 0x40000000;
  const address = options.address ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls === undefined ? 'smpp' : 'smpps';
  const host = address === '::1' ? '[::1]' : 'localhost';

  const bound = () =>
    boundSession !== null
      ? Promise.resolve(boundSession)
      : new Promise<SmppSession>((resolve) => {
          boundWaiters.push(resolve);
        });

  return {
    port,
    url: (systemId, password) => `${scheme}://${encodeURIComponent(systemId)}:${encodeURIComponent(password)}@${host}:${port}`,
    binds,
    enquireLinks,
    unbinds,
    bound,
    deliver: async (params) => {
      const session = await bound();
      return new Promise<SmppPdu>((resolve) => {
        session.deliver_sm(params, resolve);
      });
    },
    sendDataSm: async (params) => {
      const session = await bound();
      return new Promise<SmppPdu>((resolve) => {
        session.data_sm(params, resolve);
      });
    },
    deliverWithRawTlvs: async (params, tlvs) => {
      const session = await bound();
      const sequence = ++rawSequence;
      const pdu = Buffer.concat([new smpp.PDU('deliver_sm', { ...params, sequence_number: sequence }).toBuffer(), tlvs]);
      pdu.writeUInt32BE(pdu.length, 0);
      return new Promise<SmppPdu>((resolve, reject) => {
        const onAnswer = (answer: SmppPdu) => {
          if (answer.sequence_number !== sequence) return;
          session.off('close', onClose);
          session.off('deliver_sm_resp', onAnswer);
          resolve(answer);
        };
        const onClose = () => {
          session.off('deliver_sm_resp', onAnswer);
          reject(new Error('the receiver closed the link instead of answering the deliver_sm'));
        };
        session.on('deliver_sm_resp', onAnswer);
        session.once('close', onClose);
        session.socket.write(pdu);
      });
    },
    dropConnections: () => {
      for (const session of [...server.sessions]) session.destroy();
    },
    close: async () => {
      for (const session of [...server.sessions]) session.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

/** A receipt's text in the gateway's default form, or without seconds. */
export function receiptText(fields: {
  id: string;
  stat: string;
  err?: string;
  submitDate?: string;
  doneDate?: string;
  text?: string;
}): string {
  const { id, stat, err = '000', submitDate = '2511190937', doneDate = '2511190938', text = '' } = fields;
  return `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:${submitDate} done date:${doneDate} stat:${stat} err:${err} text:${text}`;
}

/** One TLV as it goes on the wire: tag, the length of the value as given, and the value. */
export function rawTlv(tag: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(tag, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value]);
}

/** SMPP 3.4 tags (5.3.2) of the TLVs the tests send raw. */
export const TLV_TAG = { receiptedMessageId: 0x001e, messageState: 0x0427, callbackNum: 0x0381 } as const;

/** A `deliver_sm` that carries a delivery receipt (esm_class 0x04) with the given text. */
export function receiptPdu(text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source_addr: '4799999999',
    destination_addr: 'LINK',
    esm_class: 0x04,
    data_coding: 0,
    short_message: Buffer.from(text, 'latin1'),
    ...extra,
  };
}
