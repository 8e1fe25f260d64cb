/** A log destination that keeps what is written, for tests that read what the receiver logged. */
import { Writable } from 'node:stream';

export interface CapturedLog {
  /** Where pino writes. */
  readonly stream: Writable;
  /** Every line written so far, as written. */
  readonly text: () => string;
}

export function capturedLog(): CapturedLog {
  let written = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written += chunk.toString();
      done();
    },
  });
  return { stream, text: () => written };
}
