/**
 * Whether a caller may deliver reports. A refused address is logged once a minute, not once a
 * request: a scanner or a misrouted sender must not flood the log.
 */
import type { AddressList } from '../config/address-list.js';
import { logSparinglyBy } from '../lib/log-sparingly.js';

const LOG_WINDOW_MS = 60_000;
const REMEMBERED_ADDRESSES = 10_000;

export interface CallerCheck {
  readonly allows: (address: string) => boolean;
  /** Logs a refusal of this address with `write`, at most once per window per address (see logSparingly). */
  readonly logRefusal: (address: string, write: (suppressed: number) => void) => void;
}

export function callerCheck(allowed: AddressList | null): CallerCheck {
  const logRefusal = logSparinglyBy(LOG_WINDOW_MS, REMEMBERED_ADDRESSES);
  // Reports come from a handful of addresses: parsing each one once saves work on every request.
  const decided = new Map<string, boolean>();
  return {
    allows: (address) => {
      if (allowed === null) return true;
      let allows = decided.get(address);
      if (allows === undefined) {
        allows = allowed.includes(address);
        if (decided.size >= REMEMBERED_ADDRESSES) decided.clear();
        decided.set(address, allows);
      }
      return allows;
    },
    logRefusal,
  };
}
