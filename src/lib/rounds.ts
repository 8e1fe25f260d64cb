/**
 * Work done in rounds in the background, one round at a time: every `everyMs` once started, or at
 * once when asked. A round that fails is handed to `failed`; the next comes at its time.
 */
export interface Rounds<T> {
  /** Rounds every `everyMs` from now on; with `now`, the first at once. */
  readonly start: (options?: { readonly now?: boolean }) => void;
  /** One round now; while one is in hand, that one. */
  readonly runOnce: () => Promise<T>;
  /** Starts no more rounds, and waits for the one in hand. */
  readonly stop: () => Promise<void>;
}

export function rounds<T>(round: () => Promise<T>, everyMs: number, failed: (error: unknown) => void): Rounds<T> {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let inHand: Promise<T> | null = null;

  const runOnce = (): Promise<T> => {
    inHand ??= round().finally(() => {
      inHand = null;
    });
    return inHand;
  };

  const tick = (): void => {
    runOnce().catch(failed);
  };

  return {
    start: (options) => {
      if (timer !== null || stopped) return;
      timer = setInterval(tick, everyMs).unref();
      if (options?.now === true) tick();
    },
    runOnce,
    stop: async () => {
      stopped = true;
      if (timer !== null) clearInterval(timer);
      timer = null;
      await inHand?.catch(() => undefined);
    },
  };
}
