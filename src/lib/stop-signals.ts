/**
 * The signals that stop the receiver and its commands: `SIGHUP`, `SIGQUIT` and `SIGUSR2` too, since
 * there is nothing to reload.
 */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const;

/**
 * A signal that the first stop signal aborts, instead of ending the process at once, so that what is
 * under way can stop cleanly; a second stop signal ends the process.
 *
 * The listeners stay for the process's life, beside any added later (close-with-grace's), aborting
 * what no one waits on any more. Removed, they took with them a signal that came while the event loop
 * was busy (opening the embedded database): caught, not yet delivered, then neither heeded nor fatal.
 */
export function abortedByStopSignal(): AbortSignal {
  const stop = new AbortController();
  const onStop = () => { stop.abort(); };
  for (const signal of STOP_SIGNALS) process.once(signal, onStop);
  return stop.signal;
}
