/**
 * Strict text decoders by charset label, made once each: a decoder without streaming keeps no state
 * between uses. Strict: bytes that are not text in the charset throw, never become U+FFFD.
 */
import { TextDecoder } from 'node:util';

/** A body's leading BOM is dropped; a BOM inside a `%` escape is a character the sender wrote. */
export type BomHandling = 'drop' | 'keep';

const decoders = new Map<string, TextDecoder>();
/** Labels are the sender's: only this many are remembered. */
const REMEMBERED = 64;

/** The decoder for `charset`, or null when TextDecoder knows no such label. */
export function strictDecoder(charset: string, bom: BomHandling): TextDecoder | null {
  const key = `${bom}:${charset}`;
  let decoder = decoders.get(key);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(charset, { fatal: true, ignoreBOM: bom === 'keep' });
    } catch {
      return null;
    }
    if (decoders.size < REMEMBERED) decoders.set(key, decoder);
  }
  return decoder;
}
