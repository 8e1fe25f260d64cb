/**
 * A warning that can come many times a second, such as every lookup answered `503` while the
 * database is away or every request of a caller intake refuses, logged at most once per interval:
 * the first at once, the ones within the interval after a logged one counted, and their number
 * given by the next line. An outage then shows in the log as a few lines, not as a line per request.
 */
export type SparingLog = (write: (suppressed: number) => void) => void;

/**
 * The interval is measured on the monotonic clock: with the wall clock, a machine whose time was set
 * back (NTP stepping a clock that ran ahead at boot) kept every warning of a kind already logged
 * silent for as long as the step.
 */
const monotonicNow = (): number => performance.now();

export function logSparingly(intervalMs: number, now: () => number = monotonicNow): SparingLog {
  let lastLoggedAt: number | null = null;
  let suppressed = 0;
  return (write) => {
    const at = now();
    if (lastLoggedAt !== null && at - lastLoggedAt < intervalMs) {
      suppressed++;
      return;
    }
    write(suppressed);
    lastLoggedAt = at;
    suppressed = 0;
  };
}

/** A sparing log for each key on its own: an address, an error's code. */
export type KeyedSparingLog = (key: string, write: (suppressed: number) => void) => void;

/** logSparingly per key; past `maxKeys` keys it starts afresh, so that strange keys cannot grow it. */
export function logSparinglyBy(intervalMs: number, maxKeys: number, now: () => number = monotonicNow): KeyedSparingLog {
  const logs = new Map<string, SparingLog>();
  return (key, write) => {
    let log = logs.get(key);
    if (log === undefined) {
      if (logs.size >= maxKeys) logs.clear();
      log = logSparingly(intervalMs, now);
      logs.set(key, log);
    }
    log(write);
  };
}
