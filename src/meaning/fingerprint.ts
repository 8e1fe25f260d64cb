/**
 * What makes two reports the same report: the facts they state, hashed. The fingerprint is the
 * first 128 bits of the facts' SHA-256, written as a UUID (`8-4-4-4-12` lowercase hex), so that
 * PostgreSQL keeps it in a `uuid` column: 16 bytes in the report's row and in the reports' key,
 * where the whole hash as text took 44. 128 bits is far beyond what telling apart the reports of
 * one message needs, which is all the key asks of it.
 */
import { hash } from 'node:crypto';
import { isoTime } from '../lib/iso-time.js';

export function fingerprintOfFacts(facts: readonly unknown[]): string {
  return uuidText(hash('sha256', JSON.stringify(facts), 'hex'));
}

/** A time among the facts, as toISOString writes it (the text every stored fingerprint was made with). */
export function isoTimeOrNull(time: Date | null): string | null {
  return time === null ? null : isoTime(time);
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const WHOLE_HASH_BASE64URL = /^[A-Za-z0-9_-]{43}$/;

/**
 * A fingerprint as it is stored now, from one read back (from the journal): a fingerprint in the
 * form receivers wrote before the `uuid` column (the whole SHA-256 in base64url) becomes the one
 * the same facts have now; text that is neither form is no fingerprint (null).
 */
export function currentFingerprint(text: string): string | null {
  if (UUID_TEXT.test(text)) return text;
  if (WHOLE_HASH_BASE64URL.test(text)) return uuidText(Buffer.from(text, 'base64url').toString('hex'));
  return null;
}

/** The first 32 hex digits of `hex` in PostgreSQL's text form of a uuid. */
export function uuidText(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
