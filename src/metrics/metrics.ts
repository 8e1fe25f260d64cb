/**
 * What the receiver has done since it started, for Prometheus to scrape: reports acknowledged, by
 * format and by what each report says; intake's answers by status code; refused requests kept;
 * SMPP receipt answers (`deliver_sm_resp`, `data_sm_resp`) by command status. Read at each scrape:
 * whether the receiver has started, whether the database answers, where reports go, how many wait
 * in the journal, and the SMPP bind. Node's own (memory, CPU, event-loop delay, collections) are
 * prom-client's defaults.
 *
 * Counting is one counter increment per report or answer: nothing here waits or touches the disk.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ReceiverState } from '../health/routes.js';
import type { ReportSink } from '../intake/report-sink.js';
import type { SmppState } from '../smpp/smpp-receiver.js';
import type { RejectedRequest } from '../storage/rejected-requests.js';
import type { ReportToStore } from '../storage/write-reports.js';

const SMPP_STATES: readonly SmppState[] = ['bound', 'connecting', 'disabled'];
/** A refused request kept with one of these as its method came over SMPP. */
const SMPP_COMMANDS: ReadonlySet<string> = new Set(['deliver_sm', 'data_sm']);

export interface ReceiverMetrics {
  /** Reports just made durable, whose acknowledgement goes out next. */
  readonly acknowledged: (items: readonly ReportToStore[]) => void;
  readonly intakeAnswered: (statusCode: number) => void;
  readonly rejectedKept: (request: RejectedRequest) => void;
  readonly deliverSmAnswered: (commandStatusName: string) => void;
  /** Everything, in Prometheus' text format. */
  readonly exposition: (state: ReceiverState) => Promise<string>;
  readonly contentType: string;
}

/**
 * Node's metrics describe the process, and their event-loop monitor runs until the process ends:
 * one set for the process, however many receivers a process builds (the tests build many).
 */
let processMetrics: Registry | null = null;

function processRegistry(): Registry {
  if (processMetrics === null) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export function receiverMetrics(): ReceiverMetrics {
  // Started with the first receiver, so that collections and event-loop delay count from its start.
  const processWide = processRegistry();
  const registry = new Registry();
  const counter = <Label extends string>(name: string, help: string, labelNames: readonly Label[]) =>
    new Counter<Label>({ name, help, labelNames, registers: [registry] });
  const acknowledged = counter(
    'dlr_reports_acknowledged_total',
    'Reports acknowledged once durable (200 over HTTP, ESME_ROK over SMPP), by format and by the report\'s own status; a retry of a report counts again',
    ['format', 'status'],
  );
  const intakeAnswers = counter('dlr_intake_answers_total', 'Answers to requests on /dlr and /dlr/{gate}, by HTTP status code', ['code']);
  const rejected = counter('dlr_rejected_requests_total', 'Refused requests kept for GET /rejected, by how they came (http or smpp)', ['via']);
  const deliverSmAnswers = counter(
    'dlr_smpp_deliver_sm_answers_total',
    'deliver_sm_resp (and data_sm_resp) sent to the SMPP gateway, by command status (ESME_ROK: stored, or kept among the rejected requests)',
    ['command_status'],
  );
  const gauge = (name: string, help: string, labelNames: readonly string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });
  const started = gauge('dlr_started', '1 once the receiver has migrated its database and takes reports, 0 while it starts');
  const databaseUp = gauge('dlr_database_up', '1 when the database answered a ping at this scrape, else 0');
  const storingToJournal = gauge('dlr_storing_to_journal', '1 while acknowledged reports go to the local journal (the database is away or the journal still holds reports), else 0');
  const journalReports = gauge('dlr_journal_reports', 'Acknowledged reports waiting in the local journal for the database');
  const smppState = gauge('dlr_smpp_state', 'The SMPP bind: 1 for its present state (bound, connecting or disabled), 0 for the others', ['state']);

  return {
    acknowledged: (items) => {
      for (const { format, report } of items) acknowledged.inc({ format, status: report.status });
    },
    intakeAnswered: (statusCode) => {
      intakeAnswers.inc({ code: String(statusCode) });
    },
    rejectedKept: (request) => {
      rejected.inc({ via: SMPP_COMMANDS.has(request.method) ? 'smpp' : 'http' });
    },
    deliverSmAnswered: (commandStatusName) => {
      deliverSmAnswers.inc({ command_status: commandStatusName });
    },
    exposition: async (state) => {
      started.set(state.opened() ? 1 : 0);
      databaseUp.set((await state.pingDatabase()) ? 1 : 0);
      storingToJournal.set(state.storingTo() === 'journal' ? 1 : 0);
      journalReports.set(state.journalReports());
      const smpp = state.smppState();
      for (const name of SMPP_STATES) smppState.set({ state: name }, name === smpp ? 1 : 0);
      return Registry.merge([processWide, registry]).metrics();
    },
    contentType: registry.contentType,
  };
}

/** The sink intake and SMPP hand reports to, counting those it made durable. */
export function countingSink(sink: ReportSink, metrics: ReceiverMetrics): ReportSink {
  return {
    store: (items) =>
      sink.store(items).then(() => {
        metrics.acknowledged(items);
      }),
  };
}
