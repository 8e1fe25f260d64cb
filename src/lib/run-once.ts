/**
 * Runs `run` once for `key` and hands every caller the same promise, so that one run serves all;
 * a run that fails is forgotten, and the next caller runs it again.
 */
export function runOnce<T>(runs: Map<string, Promise<T>>, key: string, run: () => Promise<T>): Promise<T> {
  const known = runs.get(key);
  if (known !== undefined) return known;
  const running = run();
  running.catch(() => {
    forget(runs, key, running);
  });
  runs.set(key, running);
  return running;
}

/** Forgets the run of `key`, unless a newer run has taken its place. */
export function forget<T>(runs: Map<string, Promise<T>>, key: string, run: Promise<T>): void {
  if (runs.get(key) === run) runs.delete(key);
}
