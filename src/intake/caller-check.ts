/**
 * Whether a caller may deliver reports. A refused address is logged once a minute, not once a
 * request: a scanner or a misrouted sender must not flood the log.
 */
import type { AddressList } from '../config/address-list.js';

const LOG_WINDOW_MS = 60_000;
const REMEMBERED_ADDRESSES = 10_000;

export interface CallerCheck {
  readonly allows: (address: string) => boolean;
  /** Whether a refusal of this address should be logged now (once per window per address). */
  readonly shouldLogRefusal: (address: string, now?: number) => boolean;
}

export function callerCheck(allowed: AddressList | null): CallerCheck {
  const lastLogged = new Map<string, number>();
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
    shouldLogRefusal: (address, now = Date.now()) => {
      const last = lastLogged.get(address);
      if (last !== undefined && now - last < LOG_WINDOW_MS) return false;
      if (lastLogged.size >= REMEMBERED_ADDRESSES) lastLogged.clear();
      lastLogged.set(address, now);
      return true;
    },
  };
}
