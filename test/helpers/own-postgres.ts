/**
 * A PostgreSQL server of the test's own, so that a test can stop and start it without disturbing
 * anyone else's. `initdb` and `postgres` refuse to run as root, so they run as the postgres user.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './receiver-process.js';

export interface OwnPostgres {
  readonly url: string;
  readonly start: () => void;
  /** `immediate` is a crash as far as the clients can tell: connections cut, no goodbye. */
  readonly stop: (mode?: 'fast' | 'immediate') => void;
  readonly remove: () => void;
}

/** The folder of PostgreSQL's server programs, or null when this machine has none to run. */
export function postgresBinaries(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root) || process.getuid?.() !== 0) return null;
  const version = readdirSync(root).sort().at(-1);
  const folder = version === undefined ? null : join(root, version, 'bin');
  return folder !== null && existsSync(join(folder, 'initdb')) ? folder : null;
}

/** A certificate and its key in PEM, for a server that takes TLS connections. */
export interface ServerCertificate {
  readonly key: string;
  readonly cert: string;
}

export interface OwnPostgresOptions {
  readonly tls?: ServerCertificate;
  /** The postgres user's password, then asked of every connection (SCRAM); without it, none is. */
  readonly password?: string;
  /** A server (trusting, as by default) to make this one a standby of: a copy that follows it, taking no writes. */
  readonly standbyOf?: OwnPostgres;
}

export async function startOwnPostgres(binaries: string, options: OwnPostgresOptions = {}): Promise<OwnPostgres> {
  const folder = mkdtempSync(join(tmpdir(), 'dlr-own-pg-'));
  chmodSync(folder, 0o777);
  const data = join(folder, 'data');
  const port = await freePort();
  const asPostgres = (program: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', join(binaries, program), ...args], { stdio: 'pipe', timeout: 60_000 });
  if (options.standbyOf === undefined) {
    asPostgres('initdb', ['-D', data, '-U', 'postgres', '--no-sync', ...authentication(folder, options.password)]);
  } else {
    // -R: the copy starts as a standby of the server it was taken from.
    const primary = new URL(options.standbyOf.url);
    asPostgres('pg_basebackup', ['-h', primary.hostname, '-p', primary.port, '-U', 'postgres', '-D', data, '-R']);
  }
  const settings = [`-p ${port}`, `-k ${folder}`, '-c fsync=off', '-c listen_addresses=127.0.0.1'];
  if (options.tls !== undefined) settings.push(...serverTls(data, options.tls));
  const start = () => {
    asPostgres('pg_ctl', ['-D', data, '-l', join(folder, 'log'), '-w', '-o', settings.join(' '), 'start']);
  };
  const stop = (mode: 'fast' | 'immediate' = 'fast') => {
    asPostgres('pg_ctl', ['-D', data, '-w', '-m', mode, 'stop']);
  };
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    remove: () => {
      try {
        stop('immediate');
      } catch {
        // Already stopped.
      }
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** initdb's arguments for trust, or for a password: initdb reads it from a file, its first line. */
function authentication(folder: string, password: string | undefined): string[] {
  if (password === undefined) return ['-A', 'trust'];
  const file = join(folder, 'password');
  writeFileSync(file, `${password}\n`, { mode: 0o644 });
  return ['-A', 'scram-sha-256', `--pwfile=${file}`];
}

/** Writes the certificate where the server reads it; the key must be the postgres user's alone. */
function serverTls(data: string, tls: ServerCertificate): string[] {
  const { uid, gid } = postgresUser();
  for (const [name, text] of [['server.crt', tls.cert], ['server.key', tls.key]] as const) {
    const path = join(data, name);
    writeFileSync(path, text, { mode: 0o600 });
    chownSync(path, uid, gid);
  }
  return ['-c ssl=on'];
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
