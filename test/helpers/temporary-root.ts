/**
 * One temporary folder for the whole run (vitest's global setup): every folder a test makes under
 * the system's temporary folder (data folders, journals, certificates, a PostgreSQL of its own) goes
 * inside it through TMPDIR, which `os.tmpdir()` reads and which the test workers and the receivers
 * they start inherit. It is removed when the run ends, so that runs do not pile up in /tmp.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'dlr-suite-'));
  // The postgres user must pass through to the folder a test's own server runs in.
  chmodSync(root, 0o711);
  process.env.TMPDIR = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
  };
}
