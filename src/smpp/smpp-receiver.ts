/**
 * Keeps one bind to the SMPP gateway and takes delivery receipts from it, within the gateway's rules
 * (SMPP quick start): SMPP 3.4 over TCP or TLS, `system_id` and `password` in the bind, one PDU in
 * flight each way, an `enquire_link` well inside the 5-minute idle limit, and 30 seconds' wait
 * before connecting again after a drop or a refused bind, forever.
 *
 * Receipts (`deliver_sm`, or `data_sm`, which SMPP 3.4 allows for them too) are handled one at a
 * time, in arrival order, and each answer is sent only once the handler has decided (after the
 * commit, for a receipt that is stored).
 */
import { isIP } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { SmppConfig } from '../config/config.js';
import { errorSummary } from '../lib/error-summary.js';
import type { DeliverSm } from '../intake/read-receipt.js';
import type { DeliverSmHandler, Gateway, ReceiptCommand } from './receipt-intake.js';
import type { SmppPdu, SmppSession } from './smpp-library.js';
import { COMMAND_STATUS, commandStatusName, smpp } from './smpp-library.js';

export type SmppState = 'bound' | 'connecting' | 'disabled';

export interface SmppReceiverOptions {
  readonly config: SmppConfig;
  readonly logger: FastifyBaseLogger;
  readonly handleDeliverSm: DeliverSmHandler;
  /** Told the command status of each `deliver_sm_resp` or `data_sm_resp` sent. */
  readonly answered: (commandStatusName: string) => void;
}

export interface SmppReceiver {
  readonly state: () => SmppState;
  readonly start: () => void;
  /** Finishes the receipt in hand, unbinds, and stops connecting. */
  readonly stop: () => Promise<void>;
}

const SMPP_VERSION_3_4 = 0x34;
/** How long an unbind at shutdown may wait for the gateway's answer. */
const UNBIND_WAIT_MS = 1_000;
/** A gateway silent this long before the bind is answered counts as a failed attempt. */
const CONNECT_TIMEOUT_MS = 30_000;
/** Requests from the gateway that need no answer. */
const NO_ANSWER = new Set(['alert_notification', 'outbind', 'generic_nack']);

/** One connection attempt and, if the bind succeeds, the bound session. */
interface Link {
  readonly session: SmppSession;
  /** Set once the link is given up; nothing more is sent on it. */
  ended: boolean;
  bound: boolean;
  /** Our request awaiting its answer: the gateway's window is one. */
  waiting: NodeJS.Timeout | null;
  enquireTimer: NodeJS.Timeout | null;
}

export function smppReceiver(options: SmppReceiverOptions): SmppReceiver {
  const { config, logger } = options;
  const label = `${config.tls ? 'smpps' : 'smpp'}://${isIP(config.host) === 6 ? `[${config.host}]` : config.host}:${config.port}`;
  let state: SmppState = 'connecting';
  let link: Link | null = null;
  let stopped = false;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let lastProblem: string | null = null;
  /** The receipt being handled, and those waiting behind it. */
  let receipts: Promise<void> = Promise.resolve();

  const setState = (next: SmppState) => {
    if (state === next) return;
    state = next;
    logger.info({ gateway: label, state: next }, `SMPP bind ${next}`);
  };

  /** Logs a failure once; the same failure again (a wrong password every 30 s) only at debug. */
  const noteProblem = (problem: string, refused: boolean) => {
    const context = { gateway: label, systemId: config.systemId, problem, retryInMs: config.reconnectMs };
    if (problem === lastProblem) logger.debug(context, 'SMPP connection failed again');
    else if (refused) logger.error(context, 'the SMPP gateway refused the bind: check SMPP_URL; trying again after the wait');
    else logger.warn(context, 'SMPP connection lost: connecting again after the wait');
    lastProblem = problem;
  };

  const connect = () => {
    reconnectTimer = null;
    if (stopped) return;
    let session: SmppSession;
    try {
      session = smpp.connect({
        host: config.host,
        port: config.port,
        tls: config.tls,
        ...(config.tls && isIP(config.host) === 0 ? { servername: config.host } : {}),
        ...(config.tls && config.tlsCa !== null ? { ca: config.tlsCa } : {}),
      });
    } catch (error) {
      // This runs from a timer: a throw here would end the whole receiver, HTTP intake included.
      noteProblem(`cannot connect: ${errorSummary(error).message}`, false);
      reconnectTimer = setTimeout(connect, config.reconnectMs);
      return;
    }
    const current: Link = { session, ended: false, bound: false, waiting: null, enquireTimer: null };
    link = current;
    // Until bound, a silent gateway counts as a failed attempt.
    session.socket.setTimeout(CONNECT_TIMEOUT_MS);
    session.socket.on('timeout', () => { drop(current, 'no answer from the gateway', false); });
    session.on(config.tls ? 'secureConnect' : 'connect', () => { bind(current); });
    session.on('error', (error: Error) => { drop(current, `connection error: ${error.message}`, false); });
    session.on('close', () => { drop(current, 'the gateway closed the connection', false); });
    session.on('pdu', (pdu: SmppPdu) => { onPdu(current, pdu); });
  };

  const drop = (current: Link, problem: string, refused: boolean) => {
    if (current.ended) return;
    current.ended = true;
    clearLinkTimers(current);
    current.session.destroy();
    if (link === current) link = null;
    if (stopped) return;
    setState('connecting');
    noteProblem(problem, refused);
    reconnectTimer = setTimeout(connect, config.reconnectMs);
  };

  /** Sends one request of ours and waits for its answer; no answer in time ends the link. */
  const request = (current: Link, command: 'bind_receiver' | 'bind_transceiver' | 'enquire_link', params: Record<string, unknown>, answered: (pdu: SmppPdu) => void) => {
    const timeout = Math.min(config.reconnectMs, config.enquireLinkMs) + 5_000;
    current.waiting = setTimeout(() => { drop(current, `no answer to ${command} within ${timeout} ms`, false); }, timeout);
    current.session[command](params, (pdu) => {
      if (current.waiting !== null) clearTimeout(current.waiting);
      current.waiting = null;
      if (!current.ended) answered(pdu);
    });
  };

  const bind = (current: Link) => {
    const command = config.bind === 'transceiver' ? 'bind_transceiver' : 'bind_receiver';
    const params = { system_id: config.systemId, password: config.password, interface_version: SMPP_VERSION_3_4 };
    request(current, command, params, (answer) => {
      if (answer.command_status !== COMMAND_STATUS.ok) {
        drop(current, bindRefusal(answer.command_status, config), true);
        return;
      }
      current.bound = true;
      current.session.socket.setTimeout(0);
      lastProblem = null;
      setState('bound');
      current.enquireTimer = setInterval(() => {
        // One request in flight: a keepalive still unanswered is timed out by request().
        if (current.waiting === null) request(current, 'enquire_link', {}, () => undefined);
      }, config.enquireLinkMs);
    });
  };

  const onPdu = (current: Link, pdu: SmppPdu) => {
    if (pdu.isResponse() || current.ended) return;
    switch (pdu.command) {
      case 'deliver_sm':
        receipts = receipts.then(() => answerReceipt(current, pdu, 'deliver_sm'));
        return;
      case 'data_sm':
        receipts = receipts.then(() => answerReceipt(current, pdu, 'data_sm'));
        return;
      case 'enquire_link':
        current.session.send(pdu.response());
        return;
      case 'unbind':
        // Closed once the answer is written: closing at once could discard it.
        current.session.send(pdu.response(), () => { drop(current, 'the gateway unbound', false); });
        return;
      default:
        if (!NO_ANSWER.has(pdu.command)) current.session.send(pdu.response({ command_status: COMMAND_STATUS.invalidCommandId }));
    }
  };

  const answerReceipt = async (current: Link, pdu: SmppPdu, command: ReceiptCommand) => {
    const gateway: Gateway = { remoteAddress: current.session.socket.remoteAddress ?? null, label };
    let status: number;
    try {
      status = await options.handleDeliverSm(deliverSmOf(pdu), gateway, command);
    } catch (error) {
      logger.error({ err: errorSummary(error), command }, 'a receipt PDU could not be handled: answering a temporary error');
      status = COMMAND_STATUS.temporaryAppError;
    }
    // A link lost meanwhile gets no answer: the gateway delivers the receipt again on the next bind.
    if (current.ended) return;
    current.session.send(pdu.response({ command_status: status }));
    options.answered(commandStatusName(status));
  };

  return {
    state: () => state,
    start: () => {
      logger.info({ gateway: label, bind: config.bind }, 'SMPP: binding to the gateway');
      connect();
    },
    stop: async () => {
      stopped = true;
      if (reconnectTimer !== null) clearTimeout(reconnectTimer);
      await receipts;
      const current = link;
      if (current !== null && !current.ended) await unbind(current);
      state = 'disabled';
    },
  };
}

/** Says goodbye properly when bound, waiting a moment for the answer, then closes. */
async function unbind(current: Link): Promise<void> {
  clearLinkTimers(current);
  if (current.bound) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, UNBIND_WAIT_MS);
      const sent = current.session.unbind({}, () => {
        clearTimeout(timer);
        resolve();
      });
      if (!sent) resolve();
    });
  }
  current.ended = true;
  current.session.destroy();
}

function clearLinkTimers(current: Link): void {
  if (current.waiting !== null) clearTimeout(current.waiting);
  if (current.enquireTimer !== null) clearInterval(current.enquireTimer);
  current.waiting = null;
  current.enquireTimer = null;
}

function bindRefusal(status: number, config: SmppConfig): string {
  const name = commandStatusName(status);
  const refusal =
    status === COMMAND_STATUS.invalidPassword ? `wrong password for the system_id (${name})`
    : status === COMMAND_STATUS.invalidSystemId ? `unknown system_id (${name})`
    : `bind refused with ${name}`;
  return refusal + overLongNote(config);
}

/** SMPP 3.4's longest `system_id` and `password`, in characters before the closing NUL. */
const BIND_FIELD_MOST = { system_id: 15, password: 8 } as const;

/**
 * Many gateways take longer credentials than SMPP 3.4 allows, so a long one is sent as it is; when
 * the bind is refused, the length may be why. The password's length is not told.
 */
function overLongNote(config: SmppConfig): string {
  const long = [
    ...(config.systemId.length > BIND_FIELD_MOST.system_id ? [`the system_id is longer than ${BIND_FIELD_MOST.system_id} characters`] : []),
    ...(config.password.length > BIND_FIELD_MOST.password ? [`the password is longer than ${BIND_FIELD_MOST.password} characters`] : []),
  ];
  return long.length === 0 ? '' : `; ${long.join(' and ')}, the most SMPP 3.4 allows, which a gateway may refuse`;
}

/** The fields of a parsed `deliver_sm` that a receipt is read from. */
function deliverSmOf(pdu: SmppPdu): DeliverSm {
  return {
    esmClass: numberOf(pdu.esm_class) ?? 0,
    dataCoding: numberOf(pdu.data_coding) ?? 0,
    shortMessage: Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0),
    messagePayload: Buffer.isBuffer(pdu.message_payload) ? pdu.message_payload : null,
    receiptedMessageId: typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id : null,
    messageState: numberOf(pdu.message_state),
    sourceAddr: typeof pdu.source_addr === 'string' ? pdu.source_addr : '',
    destinationAddr: typeof pdu.destination_addr === 'string' ? pdu.destination_addr : '',
  };
}

function numberOf(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}
