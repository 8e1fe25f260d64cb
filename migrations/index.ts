/**
 * Every migration, by name. Names sort by their date prefix, which is the order they run in.
 * Listed here rather than read from the folder, so the same list works compiled and under test.
 */
import type { Migration } from 'kysely';
import * as initial from './20261122T1200_initial.js';
import * as partsWithoutReportKey from './20261123T0100_parts-without-report-key.js';
import * as receiptFields from './20261123T1700_receipt-fields.js';
import * as messageIdDistinct from './20261123T1800_message-id-distinct.js';
import * as reportsOneIndex from './20261123T2000_reports-one-index.js';
import * as listingIndexesAscending from './20261124T1000_listing-indexes-ascending.js';
import * as decidersFromReports from './20261202T0600_deciders-from-reports.js';
import * as fingerprintUuid from './20261202T1100_fingerprint-uuid.js';
import * as keysInByteOrder from './20261203T0800_keys-in-byte-order.js';
import * as listingByReceiptTime from './20261204T0900_listing-by-receipt-time.js';
import * as untimedTiesByArrival from './20261205T0600_untimed-ties-by-arrival.js';
import * as rejectedBodySize from './20261206T2300_rejected-body-size.js';
import * as rejectedRepeats from './20261207T1500_rejected-repeats.js';
import * as listingByDestination from './20261207T2300_listing-by-destination.js';

export const migrations: Readonly<Record<string, Migration>> = {
  '20261122T1200_initial': initial,
  '20261123T0100_parts-without-report-key': partsWithoutReportKey,
  '20261123T1700_receipt-fields': receiptFields,
  '20261123T1800_message-id-distinct': messageIdDistinct,
  '20261123T2000_reports-one-index': reportsOneIndex,
  '20261124T1000_listing-indexes-ascending': listingIndexesAscending,
  '20261202T0600_deciders-from-reports': decidersFromReports,
  '20261202T1100_fingerprint-uuid': fingerprintUuid,
  '20261203T0800_keys-in-byte-order': keysInByteOrder,
  '20261204T0900_listing-by-receipt-time': listingByReceiptTime,
  '20261205T0600_untimed-ties-by-arrival': untimedTiesByArrival,
  '20261206T2300_rejected-body-size': rejectedBodySize,
  '20261207T1500_rejected-repeats': rejectedRepeats,
  '20261207T2300_listing-by-destination': listingByDestination,
};
